"""Stale series: `forecast predict` warns about (and the lineage lists) series whose last point is
more than one horizon before the as-of time; `--drop-stale` leaves them out."""

from __future__ import annotations

import json
import logging

import pandas as pd

from forecasting.cli import main

HOUR = pd.Timedelta(hours=1)


def _predict(served_model, data, output, *extra) -> int:
    return main(
        [
            "predict",
            "--model",
            served_model.champion,
            "--data",
            str(data),
            "--output",
            str(output),
            "--tracking-uri",
            served_model.tracking_uri,
            *extra,
        ]
    )


def _history_with_a_stale_series(served_model, path):
    """s0 as trained; s1 ends 10 hours earlier (the horizon is 6); fresh ends 3 hours earlier."""
    frame = served_model.frame
    end = frame["ds"].max()
    s1 = frame[(frame["unique_id"] == "s1") & (frame["ds"] <= end - 10 * HOUR)]
    fresh = frame[frame["unique_id"] == "s0"].assign(unique_id="fresh")
    fresh = fresh[fresh["ds"] <= end - 3 * HOUR]
    pd.concat([frame[frame["unique_id"] == "s0"], s1, fresh]).to_csv(path, index=False)
    return path, end


def test_a_stale_series_is_warned_about_listed_and_still_forecast(served_model, tmp_path, caplog):
    data, end = _history_with_a_stale_series(served_model, tmp_path / "history.csv")
    output = tmp_path / "forecast.csv"
    with caplog.at_level(logging.WARNING, logger="forecasting.serving.batch"):
        assert _predict(served_model, data, output) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{data}: 1 stale series (last point more than one horizon, 6 steps, before {end}): s1; "
        "--drop-stale skips them"
    ]
    assert set(pd.read_csv(output)["unique_id"]) == {"s0", "s1", "fresh"}
    lineage = json.loads((tmp_path / "forecast.csv.lineage.json").read_text())
    assert lineage["stale_series"] == 1
    assert lineage["stale_series_ids"] == ["s1"]
    assert lineage["stale_dropped"] is False
    assert lineage["stale_before"] == (end - 6 * HOUR).isoformat()


def test_drop_stale_leaves_them_out(served_model, tmp_path, capsys):
    data, _ = _history_with_a_stale_series(served_model, tmp_path / "history.csv")
    output = tmp_path / "forecast.csv"
    assert _predict(served_model, data, output, "--drop-stale") == 0
    assert "  stale: 1 series end before" in capsys.readouterr().out
    forecast = pd.read_csv(output)
    assert set(forecast["unique_id"]) == {"s0", "fresh"}
    assert len(forecast) == 2 * 6
    lineage = json.loads((tmp_path / "forecast.csv.lineage.json").read_text())
    assert (lineage["stale_series_ids"], lineage["stale_dropped"], lineage["series"]) == (
        ["s1"],
        True,
        2,
    )


def test_the_as_of_time_is_what_staleness_is_measured_against(served_model, tmp_path, capsys):
    """As of a day after the data end every series is stale: with --drop-stale nothing is left,
    which is one line and exit 2, and nothing is written."""
    end = served_model.frame["ds"].max()
    as_of = end + 24 * HOUR
    output = tmp_path / "forecast.csv"
    status = _predict(
        served_model, served_model.data_csv, output, "--as-of", as_of.isoformat(), "--drop-stale"
    )
    assert status == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {served_model.data_csv}: column 'ds': every series is stale (last point before "
        f"{as_of - 6 * HOUR}, more than one horizon before {as_of}); nothing to forecast"
    )
    assert list(tmp_path.iterdir()) == []
