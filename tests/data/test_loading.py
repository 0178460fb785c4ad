"""Loading CSV / Parquet / bundled data into canonical long format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.data import Columns, FillPolicy, load_series
from forecasting.errors import DataError

CANONICAL = ["unique_id", "ds", "y"]


def assert_series_equal_by_time(data, expected: pd.DataFrame, columns=("y",)) -> None:
    """The loaded frame holds exactly ``expected``'s rows (any order), sorted by id and time."""
    want = expected.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    got = data.frame
    assert list(got["unique_id"]) == list(want["unique_id"])
    assert (got["ds"].to_numpy() == want["ds"].to_numpy()).all()
    for c in columns:
        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_load_to_canonical_long_format(tmp_path, synthetic_panel, suffix):
    frame = synthetic_panel(3, 48)
    shuffled = frame.sample(frac=1.0, random_state=1)  # the file's order must not matter
    path = tmp_path / f"series{suffix}"
    shuffled.to_csv(path, index=False) if suffix == ".csv" else shuffled.to_parquet(
        path, index=False
    )

    data = load_series(path)

    assert list(data.frame.columns) == CANONICAL
    assert data.ids == ["s0", "s1", "s2"]
    assert data.lengths.tolist() == [48, 48, 48]
    assert data.freq == "h"
    assert data.covariates == []
    assert data.filled == {"s0": 0, "s1": 0, "s2": 0}
    assert pd.api.types.is_datetime64_any_dtype(data.frame["ds"])
    assert data.frame["y"].dtype == np.float64
    assert_series_equal_by_time(data, frame)
    assert list(data.frame.index) == list(range(len(frame)))


def test_each_series_is_sorted_by_time(write_csv, synthetic_panel):
    frame = synthetic_panel(2, 30)
    path = write_csv(frame.iloc[::-1])  # newest first
    data = load_series(path)
    for uid in data.ids:
        times = data.series(uid)["ds"]
        assert times.is_monotonic_increasing and times.is_unique
    assert_series_equal_by_time(data, frame)


def test_overridden_column_names(write_csv, synthetic_panel):
    frame = synthetic_panel(2, 24)
    user = frame.rename(columns={"unique_id": "store", "ds": "timestamp", "y": "sales"})
    user["price"] = 1.0
    data = load_series(write_csv(user), Columns(id="store", time="timestamp", target="sales"))
    assert list(data.frame.columns) == [*CANONICAL, "price"]
    assert data.covariates == ["price"]
    assert_series_equal_by_time(data, frame)


def test_overridden_column_names_through_the_cli(write_csv, synthetic_panel, capsys):
    frame = synthetic_panel(2, 24)
    user = frame.rename(columns={"unique_id": "store", "ds": "timestamp", "y": "sales"})
    path = write_csv(user)
    argv = [
        "validate",
        "--data",
        str(path),
        "--id-col",
        "store",
        "--time-col",
        "timestamp",
        "--target",
        "sales",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{path}: 2 series, 48 points at frequency h" in out
    assert "s0: 24 points, 0 missing" in out


def test_single_series_without_id_column(write_csv):
    path = write_csv("ds,y\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n")
    data = load_series(path)
    assert data.ids == ["series_0"]
    assert data.freq == "D"
    assert data.frame["y"].tolist() == [1.0, 2.0, 3.0]
    assert data.frame["ds"].tolist() == list(pd.date_range("2024-01-01", periods=3, freq="D"))


# --- time zones -----------------------------------------------------------------------------


def _iso_csv(times: pd.DatetimeIndex) -> str:
    return "ds,y\n" + "".join(f"{t.isoformat()},{i}\n" for i, t in enumerate(times))


@pytest.mark.parametrize(
    "start", ["2021-03-28 00:00", "2021-10-31 00:00"], ids=["spring-forward", "fall-back"]
)
def test_mixed_utc_offsets_across_dst_keep_the_true_instants(write_csv, start):
    """Local Berlin hours written with their offsets (+01:00 / +02:00) are 6 consecutive hours."""
    local = pd.date_range(start, periods=6, freq="h", tz="Europe/Berlin")
    text = _iso_csv(local)
    assert "+01:00" in text and "+02:00" in text  # the file really mixes offsets
    data = load_series(write_csv(text))
    assert data.freq == "h"
    assert data.filled == {"series_0": 0}  # no hour is missing and none duplicated
    times = data.frame["ds"]
    assert times.dt.tz is not None
    assert (times.dt.tz_convert("UTC").to_numpy() == local.tz_convert("UTC").to_numpy()).all()
    assert data.frame["y"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_single_utc_offset_stays_time_zone_aware(write_csv):
    local = pd.date_range("2024-01-01", periods=5, freq="h", tz="Asia/Kolkata")  # always +05:30
    data = load_series(write_csv(_iso_csv(local)))
    times = pd.DatetimeIndex(data.frame["ds"])
    assert times.tz is not None
    assert (times == local).all()
    assert times[0].hour == 0  # the local clock is kept, not converted to UTC


def test_daily_parquet_in_a_dst_zone_keeps_local_midnights(tmp_path):
    """Daily data across a DST change is 23 or 25 hours apart, but still one calendar day."""
    local = pd.date_range("2021-03-25", periods=8, freq="D", tz="Europe/Berlin")
    path = tmp_path / "daily.parquet"
    pd.DataFrame({"ds": local, "y": np.arange(8.0)}).to_parquet(path)
    data = load_series(path)
    assert data.freq == "D"
    assert data.filled == {"series_0": 0}
    assert (pd.DatetimeIndex(data.frame["ds"]) == local).all()


def test_daily_csv_written_with_dst_offsets_stays_on_the_local_calendar(write_csv):
    """Local midnights exported with their offsets (+01:00, then +02:00) are one day apart on the
    calendar though 23 hours apart in UTC: a daily series, not a series of mixed frequencies."""
    local = pd.date_range("2024-03-25", periods=10, freq="D", tz="Europe/Berlin")
    text = _iso_csv(local)
    assert "+01:00" in text and "+02:00" in text
    data = load_series(write_csv(text))
    assert data.freq == "D"
    assert data.filled == {"series_0": 0}
    assert (pd.DatetimeIndex(data.frame["ds"]) == local.tz_localize(None)).all()


# --- frequency --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("freq", "expected"), [("h", "h"), ("15min", "15min"), ("D", "D"), ("MS", "MS")]
)
def test_frequency_is_inferred(write_csv, freq, expected):
    times = pd.date_range("2023-01-01", periods=14, freq=freq)
    frame = pd.DataFrame({"unique_id": "a", "ds": times, "y": np.arange(14.0)})
    data = load_series(write_csv(frame))
    assert data.freq == expected
    assert len(data.frame) == 14


def test_monthly_frequency_is_inferred_despite_a_missing_month(write_csv):
    text = "ds,y\n2023-01-01,1\n2023-02-01,2\n2023-04-01,4\n2023-05-01,5\n2023-06-01,6\n"
    data = load_series(write_csv(text))
    assert data.freq == "MS"
    assert data.filled == {"series_0": 1}
    assert data.frame["ds"].tolist() == list(pd.date_range("2023-01-01", periods=6, freq="MS"))
    assert data.frame["y"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_given_frequency_overrides_the_inferred_one(write_csv):
    # Mostly two-hourly readings: inferred as 2h (so 05:00 is off-grid), but the grid is hourly.
    times = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 02:00", "2024-01-01 04:00", "2024-01-01 05:00"]
    )
    frame = pd.DataFrame({"ds": times, "y": [0.0, 2.0, 4.0, 5.0]})
    path = write_csv(frame)
    with pytest.raises(DataError, match="05:00:00 at row 4 is off its 2h grid"):
        load_series(path)
    data = load_series(path, freq="h")
    assert data.freq == "h"
    assert data.frame["y"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert data.filled == {"series_0": 2}


# --- gaps and fill policies ------------------------------------------------------------------

# Hourly a: 00..06 with 02:00 absent and 04:00 empty. b: 00..03 with 00:00 empty (leading gap).
GAPPY = (
    "unique_id,ds,y\n"
    "a,2024-01-01 00:00,0\na,2024-01-01 01:00,10\na,2024-01-01 03:00,30\n"
    "a,2024-01-01 04:00,\na,2024-01-01 05:00,50\na,2024-01-01 06:00,60\n"
    "b,2024-01-01 00:00,\nb,2024-01-01 01:00,7\nb,2024-01-01 02:00,9\nb,2024-01-01 03:00,\n"
)
NAN = float("nan")


@pytest.mark.parametrize(
    ("fill", "a", "b"),
    [
        ("interpolate", [0, 10, 20, 30, 40, 50, 60], [7, 7, 9, 9]),
        ("ffill", [0, 10, 10, 30, 30, 50, 60], [7, 7, 9, 9]),
        ("drop", [0, 10, NAN, 30, NAN, 50, 60], [NAN, 7, 9, NAN]),
    ],
)
def test_fill_policies(write_csv, fill, a, b):
    data = load_series(write_csv(GAPPY), fill=fill)
    assert data.fill is FillPolicy(fill)
    assert data.filled == {"a": 2, "b": 2}
    np.testing.assert_array_equal(data.series("a")["y"].to_numpy(), np.array(a, dtype=float))
    np.testing.assert_array_equal(data.series("b")["y"].to_numpy(), np.array(b, dtype=float))
    expected_times = list(pd.date_range("2024-01-01", periods=7, freq="h"))
    assert data.series("a")["ds"].tolist() == expected_times


def test_filled_counts_are_reported_by_validate(write_csv, capsys):
    # 2 of 7 and 2 of 4 points filled: both over the default bound of 10 %, so raised here.
    argv = ["validate", "--data", str(write_csv(GAPPY)), "--fill", "ffill", "--max-fill", "0.5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "missing points filled (ffill): 4" in out
    assert "a: 7 points, 2 missing" in out
    assert "b: 4 points, 2 missing" in out
    assert (
        "  missing share per series, the worst first:\n"
        "    b: 50.0% (2 of 4 points, longest gap 1)\n"
        "    a: 28.6% (2 of 7 points, longest gap 1)\n"
    ) in out


def test_unknown_fill_policy_is_an_input_error(write_csv):
    with pytest.raises(
        DataError, match="fill policy 'mean' is not one of: interpolate, ffill, drop"
    ):
        load_series(write_csv(GAPPY), fill="mean")


# --- covariates -------------------------------------------------------------------------------


def test_numeric_extra_columns_become_covariates_and_text_is_ignored(write_csv):
    text = (
        "unique_id,ds,y,price,note,promo\n"
        "a,2024-01-01,1,2.5,hello,0\n"
        "a,2024-01-02,2,,world,1\n"
        "a,2024-01-03,3,3.5,!,0\n"
    )
    data = load_series(write_csv(text))
    assert data.covariates == ["price", "promo"]
    assert data.ignored == ["note"]
    assert list(data.frame.columns) == [*CANONICAL, "price", "promo"]
    assert data.frame["price"].tolist() == [2.5, 3.0, 3.5]  # covariate gaps are filled too
    assert data.frame["promo"].tolist() == [0.0, 1.0, 0.0]


def test_explicit_covariates_keep_only_those(write_csv):
    text = "unique_id,ds,y,price,promo\na,2024-01-01,1,2.5,0\na,2024-01-02,2,3,1\n"
    data = load_series(write_csv(text), Columns(covariates=("promo",)))
    assert data.covariates == ["promo"]
    assert list(data.frame.columns) == [*CANONICAL, "promo"]


# --- the bundled dataset ------------------------------------------------------------------


def test_bundled_city_temps():
    data = load_series("bundled:city-temps")
    assert sorted(data.ids) == ["san_francisco", "seattle"]
    assert data.lengths.to_dict() == {"san_francisco": 8760, "seattle": 8760}
    assert data.filled == {"san_francisco": 1, "seattle": 1}
    assert data.freq == "h"
    assert not data.frame["y"].isna().any()
    for uid in data.ids:
        times = data.series(uid)["ds"]
        assert times.iloc[0] == pd.Timestamp("2010-01-01 00:00")
        assert times.iloc[-1] == pd.Timestamp("2010-12-31 23:00")
        assert (times.diff().dropna() == pd.Timedelta(hours=1)).all()
    # Temperatures in °F: Seattle is colder than San Francisco on average.
    means = data.frame.groupby("unique_id")["y"].mean()
    assert 40 < means["seattle"] < means["san_francisco"] < 70
