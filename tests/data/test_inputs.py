"""Inputs a user really sends, through `forecast validate` and `forecast compare` in-process:
the fill bound (a series with more invented points than it allows follows the one usable-series
policy: left out with one warning, the file refused when most series are, any with --strict),
the likely cause named from the timestamps, file-wide causes refused (a --freq finer than the
data, day/month order), the separator sniffed, wide files. Every refusal is one line on stderr,
exit 2, nothing printed on stdout and nothing written."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.data import load_series


def listing(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def long_csv(path: Path, series: dict[str, pd.DatetimeIndex], fmt: str = "%Y-%m-%d %H:%M", sep=","):
    parts = [
        pd.DataFrame(
            {"unique_id": uid, "ds": times.strftime(fmt), "y": 20 + np.sin(np.arange(len(times)))}
        )
        for uid, times in series.items()
    ]
    pd.concat(parts).to_csv(path, index=False, sep=sep)
    return path


def hourly(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="h")


# Hourly for 300 rows, daily after that: 60 days of daily readings on an hourly grid.
MIXED = hourly("2024-01-01", 300).append(pd.date_range("2024-01-14", periods=60, freq="D"))
MIXED_CAUSE = "likely cause: mixed frequencies: the spacing changes from h to D at row {row}"
BOUND = "over the fill bound (at most 10% of the points, no gap over 24 steps)"


def refused(tmp_path, monkeypatch, capsys, argv: list[str]) -> str:
    """Run ``argv`` expecting a refusal; return its one line (without ``error: ``)."""
    monkeypatch.chdir(tmp_path)  # anything written to the working directory would show up
    before = listing(tmp_path)
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert listing(tmp_path) == before, "a refusal writes nothing"
    return lines[0].removeprefix("error: ")


def test_a_series_hourly_then_daily_is_refused_with_the_row_where_the_spacing_changes(
    tmp_path, monkeypatch, capsys
):
    path = long_csv(tmp_path / "sales.csv", {"a": MIXED})
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path)])
    assert line == (
        f"{path}: column 'y': 1 of 1 series cannot be used as given (1 over the fill bound), that "
        "is most of the panel: 'a'; 'a': 1369 of 1729 points would be invented (79%, longest gap "
        f"23), {BOUND}; {MIXED_CAUSE.format(row=301)} (fix the data, or set --freq, --max-fill or --max-gap)"
    )


def test_one_such_series_in_a_panel_is_left_out_with_one_warning(tmp_path, capsys, caplog):
    good = {uid: hourly("2024-01-01", 1729) for uid in ("b", "c", "d")}
    path = long_csv(tmp_path / "sales.csv", {**good, "a": MIXED})
    with caplog.at_level(logging.INFO):
        assert main(["validate", "--data", str(path)]) == 0
    out = capsys.readouterr().out
    reason = f"1369 of 1729 points would be invented (79%, longest gap 23), {BOUND}; {MIXED_CAUSE.format(row=3 * 1729 + 301)}"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"{path}: column 'y': 1 of 4 series left out of training (1 over the fill bound): 'a'; "
        f"the best baseline forecasts them; 'a': {reason}"
    ]
    assert (
        "  missing share per series, the worst first:\n    a: 79.2% (1369 of 1729 points, longest gap 23)\n"
        in out
    )
    assert out.endswith(
        f"  left out of training, forecast by the best baseline: 1 series\n    a: {reason}\n"
    )


def test_strict_refuses_any_series_over_the_bound(tmp_path, monkeypatch, capsys):
    good = {uid: hourly("2024-01-01", 1729) for uid in ("b", "c", "d")}
    path = long_csv(tmp_path / "sales.csv", {**good, "a": MIXED})
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path), "--strict"])
    assert line.startswith(
        f"{path}: column 'y': 1 of 4 series cannot be used as given (1 over the fill bound), "
        "--strict refuses any: 'a'; 'a': 1369 of 1729 points"
    )


def gappy(n: int, missing: range) -> pd.DatetimeIndex:
    times = hourly("2024-01-01", n)
    return times.delete(list(missing))


def test_over_half_of_the_panel_over_the_bound_is_refused_worst_first(
    tmp_path, monkeypatch, capsys
):
    # 'x' misses 20 % in gaps of 10 hours, 'y' misses one gap of 30 hours (3 %), 'z' is whole.
    x = hourly("2024-01-01", 1000).delete(
        [i for i in range(100, 1000, 50) for i in range(i, i + 10)][:200]
    )
    path = long_csv(
        tmp_path / "sales.csv",
        {"x": x, "y": gappy(1000, range(500, 530)), "z": hourly("2024-01-01", 1000)},
    )
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path)])
    assert line == (
        f"{path}: column 'y': 2 of 3 series cannot be used as given (2 over the fill bound), that "
        "is most of the panel: 'x', 'y'; 'x': 180 of 1000 points would be invented (18%, longest "
        f"gap 10), {BOUND}; likely cause: gaps in the data (no change of spacing found) "
        "(fix the data, or set --freq, --max-fill or --max-gap)"
    )


def test_max_fill_and_max_gap_raise_the_bound(tmp_path, capsys):
    x = hourly("2024-01-01", 1000).delete(
        [i for i in range(100, 1000, 50) for i in range(i, i + 10)][:200]
    )
    path = long_csv(
        tmp_path / "sales.csv",
        {"x": x, "y": gappy(1000, range(500, 530)), "z": hourly("2024-01-01", 1000)},
    )
    assert main(["validate", "--data", str(path), "--max-fill", "0.3"]) == 0, (
        "'y' alone is left out"
    )
    assert (
        "left out of training, forecast by the best baseline: 1 series\n    y: 30 of 1000"
        in capsys.readouterr().out
    )
    argv = ["validate", "--data", str(path), "--max-fill", "0.3", "--max-gap", "30"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "left out" not in out
    assert (
        "    x: 18.0% (180 of 1000 points, longest gap 10)\n    y: 3.0% (30 of 1000 points, longest gap 30)\n"
        in out
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--max-fill", "1.5"],
            "data.max_fill: Input should be less than or equal to 1 (received 1.5)",
        ),
        (["--max-gap", "0"], "data.max_gap: Input should be greater than 0 (received '0')"),
    ],
)
def test_a_bad_bound_is_a_config_error(tmp_path, monkeypatch, capsys, flags, message):
    path = long_csv(tmp_path / "sales.csv", {"a": hourly("2024-01-01", 50)})
    assert (
        refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path), *flags]) == message
    )


def test_a_freq_finer_than_the_data_refuses_the_file(tmp_path, monkeypatch, capsys):
    weekly = {uid: pd.date_range("2020-01-05", periods=200, freq="W") for uid in ("a", "b")}
    path = long_csv(tmp_path / "sales.csv", weekly, fmt="%Y-%m-%d")
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path), "--freq", "D"])
    assert line == (
        f"{path}: column 'ds': --freq D is finer than the data: most timestamps are 7D apart "
        "(first 2020-01-12 00:00:00 at row 2); pass --freq 7D or leave --freq out"
    )
    assert main(["validate", "--data", str(path)]) == 0
    assert "400 points at frequency 7D" in capsys.readouterr().out


def test_day_first_dates_are_read_day_first_when_only_that_order_fits(tmp_path, caplog):
    days = pd.date_range("2024-01-01", periods=4020, freq="D")  # 2 x 4,020 = 8,040 points
    path = long_csv(tmp_path / "sales.csv", {"a": days, "b": days}, fmt="%d/%m/%Y")
    with caplog.at_level(logging.INFO):
        data = load_series(path)
    assert data.freq == "D" and sum(data.filled.values()) == 0
    assert data.series("a")["ds"].tolist() == list(days)
    assert f"{path}: column 'ds': dates read day first ('13/01/2024' at row 13)" in caplog.messages


def test_ambiguous_day_month_order_is_refused_unless_settled(tmp_path, monkeypatch, capsys):
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    path = long_csv(tmp_path / "sales.csv", {"a": months}, fmt="%d/%m/%Y")
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path)])
    assert line == (
        f"{path}: column 'ds': ambiguous day/month order: '01/02/2024' at row 2 is day 1 of month 2 "
        "or month 1 day 2; pass --dayfirst, --no-dayfirst or --date-format (e.g. %d/%m/%Y)"
    )
    assert main(["validate", "--data", str(path), "--dayfirst"]) == 0
    assert "12 points at frequency MS" in capsys.readouterr().out
    assert main(["validate", "--data", str(path), "--date-format", "%d/%m/%Y"]) == 0
    assert "12 points at frequency MS" in capsys.readouterr().out
    data = load_series(path, dayfirst=False)
    assert (data.freq, data.frame["ds"].iloc[-1]) == ("D", pd.Timestamp("2024-01-12"))


def test_rows_in_both_orders_are_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("ds,y\n13/01/2024,1\n14/01/2024,2\n01/15/2024,3\n")
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path)])
    assert line == (
        f"{path}: column 'ds': day/month order differs between rows: '13/01/2024' at row 1 is day "
        "first, '01/15/2024' at row 3 is month first; pass --dayfirst, --no-dayfirst or "
        "--date-format (e.g. %d/%m/%Y)"
    )


def test_a_date_format_that_does_not_fit_names_the_row(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("ds,y\n2024-01-01,1\n2024-01-02,2\n")
    argv = ["validate", "--data", str(path), "--date-format", "%d/%m/%Y"]
    assert refused(tmp_path, monkeypatch, capsys, argv) == (
        f"{path}: column 'ds': timestamp '2024-01-01' at row 1 does not match --date-format '%d/%m/%Y'"
    )


def test_the_separator_is_sniffed_and_a_wrong_sep_gets_a_hint(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sales.csv"
    days = pd.date_range("2024-03-01", periods=40, freq="D")
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "sales": np.arange(40.0)}).to_csv(
        path, sep=";", index=False
    )
    assert main(["validate", "--data", str(path), "--time-col", "date", "--target", "sales"]) == 0
    assert f"{path}: 1 series, 40 points at frequency D" in capsys.readouterr().out
    argv = [
        "validate",
        "--data",
        str(path),
        "--time-col",
        "date",
        "--target",
        "sales",
        "--sep",
        ",",
    ]
    assert refused(tmp_path, monkeypatch, capsys, argv) == (
        f"{path}: missing time column 'date' (found: date;sales); the file looks separated by "
        "';': pass --sep ';'"
    )


def wide_csv(path: Path) -> Path:
    days = pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    north = np.arange(60.0)
    south = np.where(np.arange(60) < 10, np.nan, 100 + np.arange(60.0))  # starts on day 11
    south[30] = np.nan  # one gap inside
    pd.DataFrame({"ds": days, "north": north, "south": south}).to_csv(path, index=False)
    return path


def test_a_wide_file_is_refused_with_the_hint_without_wide(tmp_path, monkeypatch, capsys):
    path = wide_csv(tmp_path / "wide.csv")
    assert refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path)]) == (
        f"{path}: no target column 'y' but a time column 'ds' and 2 numeric columns "
        "(north, south): a wide file, one column per series? pass --wide"
    )


def test_a_wide_file_with_wide_is_one_series_per_column(tmp_path, capsys):
    path = wide_csv(tmp_path / "wide.csv")
    data = load_series(path, wide=True)
    assert data.ids == ["north", "south"]
    assert data.series("north")["y"].tolist() == list(np.arange(60.0))
    south = data.series("south")
    assert south["ds"].iloc[0] == pd.Timestamp("2024-01-11"), "leading empty cells are not a gap"
    assert south["y"].iloc[20] == pytest.approx(130.0), "the gap inside is interpolated"
    assert data.filled == {"north": 0, "south": 1}
    assert main(["validate", "--data", str(path), "--wide"]) == 0
    assert "2 series, 110 points at frequency D" in capsys.readouterr().out


def test_a_bad_cell_of_a_wide_file_names_its_column_and_row(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wide.csv"
    path.write_text("ds,north,south\n2024-01-01,1,2\n2024-01-02,3,abc\n2024-01-03,x,4\n")
    line = refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path), "--wide"])
    assert line == f"{path}: column 'south': non-numeric value 'abc' at row 2"


def test_excel_gets_the_hint_to_export_csv(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sales.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert refused(tmp_path, monkeypatch, capsys, ["validate", "--data", str(path)]) == (
        f"{path}: unsupported file type '.xlsx' (export the sheet as CSV; use .csv or .parquet)"
    )


def test_the_bundled_demo_is_within_the_bound(capsys):
    """One hour of each city is missing (the daylight-saving change): well within the bound."""
    assert main(["validate", "--data", "bundled:city-temps"]) == 0
    out = capsys.readouterr().out
    assert out.endswith(
        "  missing share per series, the worst first:\n"
        "    san_francisco: <0.1% (1 of 8760 points, longest gap 1)\n"
        "    seattle: <0.1% (1 of 8760 points, longest gap 1)\n"
    )


def test_the_input_flags_of_compare_set_the_data_config():
    from forecasting.cli import build_parser
    from forecasting.cli.compare import config_tree
    from forecasting.config import DataConfig, build_config

    argv = ["compare", "--data", "x.csv", "--horizon", "4", "--sep", ";", "--wide", "--no-dayfirst"]
    argv += ["--date-format", "%d.%m.%Y", "--max-fill", "0.3", "--max-gap", "48", "--strict"]
    cfg = build_config(config_tree(build_parser().parse_args(argv)), "command line")
    assert (
        cfg.data.model_dump()
        == DataConfig(
            path="x.csv",
            sep=";",
            wide=True,
            dayfirst=False,
            date_format="%d.%m.%Y",
            max_fill=0.3,
            max_gap=48,
            strict=True,
        ).model_dump()
    )
    plain = build_config(config_tree(build_parser().parse_args(argv[:5])), "command line")
    assert plain.data == DataConfig(path="x.csv"), "a flag not given leaves the config's default"
