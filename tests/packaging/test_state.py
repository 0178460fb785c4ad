"""The packaged forecaster's state: saved and read back whole, today's unversioned files read as
format version 1, and anything else (a newer version, an unknown field, a broken file) refused
with one line that names the version found and the versions supported."""

from __future__ import annotations

import json

import pytest

from forecasting.data import Columns, FillPolicy, load_series
from forecasting.errors import InputError
from forecasting.packaging import FORMAT_VERSION, SUPPORTED_VERSIONS, PackagedState
from forecasting.windowing import WindowSpec, make_windows

# A state as `preprocessing_state` wrote it before the format had an owner: no version field,
# and the configured covariates (None: every numeric column) repeated under "columns".
UNVERSIONED = {
    "family": "gru",
    "gru_impl": "custom",
    "columns": {"id": "store", "time": "timestamp", "target": "sales", "covariates": None},
    "covariates": ["promo"],
    "freq": "h",
    "fill": "interpolate",
    "lookback": 48,
    "horizon": 12,
    "calendar": ["hour_sin", "hour_cos", "dow_sin", "dow_cos", "doy_sin", "doy_cos"],
    "scalers": {"north": {"mean": [50.5, 0.25], "scale": [5.75, 1.0]}},
}


def _write(tmp_path, state: dict | str, name: str = "preprocessing.json"):
    path = tmp_path / name
    path.write_text(state if isinstance(state, str) else json.dumps(state, indent=1))
    return path


def _one_line_error(path) -> str:
    with pytest.raises(InputError) as err:
        PackagedState.load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)), message
    return message


def test_an_unversioned_state_of_today_loads_as_version_1(tmp_path):
    state = PackagedState.load(_write(tmp_path, UNVERSIONED))
    assert state.format_version == 1 and 1 in SUPPORTED_VERSIONS
    assert state.model_columns == Columns("store", "timestamp", "sales", ("promo",))
    assert (state.family, state.gru_impl, state.freq, state.fill) == (
        "gru",
        "custom",
        "h",
        FillPolicy.INTERPOLATE,
    )
    assert (state.lookback, state.horizon, len(state.calendar)) == (48, 12, 6)
    scaler = state.fitted_scalers()["north"]
    assert scaler.mean_.tolist() == [50.5, 0.25] and scaler.scale_.tolist() == [5.75, 1.0]
    assert scaler.inverse_transform([[1.0, 0.0]]).tolist() == [[56.25, 0.25]]  # 50.5 + 1 * 5.75


def test_saved_state_has_the_version_and_reads_back_equal(tmp_path):
    state = PackagedState.load(_write(tmp_path, UNVERSIONED))
    saved = state.save(tmp_path / "again.json")
    raw = json.loads(saved.read_text())
    assert (
        raw["format_version"] == 1
    )  # a version-1 state holds version-1 fields: it stays version 1
    assert "covariates" not in raw["columns"]  # said once, in "covariates"
    assert PackagedState.load(saved) == state


def test_state_from_training_carries_the_windowing_and_every_scaler(synthetic_panel, tmp_path):
    data = load_series(synthetic_panel(2, 24 * 10, covariates=1), Columns())
    windowed = make_windows(data, WindowSpec(lookback=24, horizon=6, n_folds=1))
    state = PackagedState.from_training(data, windowed, "lstm", "n/a")
    assert (state.lookback, state.horizon, state.covariates) == (24, 6, ("x0",))
    assert list(state.calendar) == windowed.calendar_names and list(state.scalers) == windowed.ids
    back = PackagedState.load(state.save(tmp_path / "state.json")).fitted_scalers()
    for series in windowed.series:
        assert back[series.uid].mean_.tolist() == series.scaler.mean_.tolist()
        assert back[series.uid].scale_.tolist() == series.scaler.scale_.tolist()


@pytest.mark.parametrize("version", [99, FORMAT_VERSION + 1])
def test_a_newer_format_version_is_refused_in_one_line(tmp_path, version):
    message = _one_line_error(_write(tmp_path, UNVERSIONED | {"format_version": version}))
    assert (
        f"packaged-model format version {version}, this forecasting reads format version 1"
        in message
    )
    assert "newer forecasting" in message


@pytest.mark.parametrize("version", [0, "1", True, None])
def test_a_malformed_format_version_is_refused_in_one_line(tmp_path, version):
    message = _one_line_error(_write(tmp_path, UNVERSIONED | {"format_version": version}))
    assert (
        f"packaged-model format version {version!r}, this forecasting reads format version 1"
        in message
    )


def test_a_field_this_reader_does_not_know_names_the_version(tmp_path):
    message = _one_line_error(
        _write(tmp_path, UNVERSIONED | {"format_version": 1, "arch": "segment"})
    )
    assert "format version 1: unknown field 'arch'" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"horizon": None}, "field 'horizon': "),
        ({"lookback": 0}, "field 'lookback': Input should be greater than 0"),
        ({"fill": "zero"}, "field 'fill': "),
        ({"scalers": {"north": {"mean": [1.0]}}}, "missing field 'scalers.north.scale'"),
    ],
)
def test_a_broken_field_is_one_line(tmp_path, change, expected):
    message = _one_line_error(_write(tmp_path, UNVERSIONED | change))
    assert f"packaged-model format version 1: {expected}" in message


def test_a_missing_field_is_one_line(tmp_path):
    state = {k: v for k, v in UNVERSIONED.items() if k != "freq"}
    assert "format version 1: missing field 'freq'" in _one_line_error(_write(tmp_path, state))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not a packaged-model state (not JSON"),
        ("[1, 2]", "not a packaged-model state (expected a JSON object, found list)"),
    ],
)
def test_a_file_that_is_no_state_is_one_line(tmp_path, text, expected):
    assert expected in _one_line_error(_write(tmp_path, text))


def test_a_missing_file_is_one_line(tmp_path):
    assert "cannot read the packaged-model state" in _one_line_error(tmp_path / "absent.json")


# --- format version 3: the prediction intervals -------------------------------------------------

VERSION_2 = UNVERSIONED | {
    "format_version": 2,
    "arch": "segment",
    "period": 24,
    "fallback": "seasonal_naive",
    "left_out": [],
}


def _intervals(horizon: int = 12, levels=(80, 95)) -> dict:
    table = [[0.01 * p * (1 + h / 10) for p in range(1, 100)] for h in range(horizon)]
    return {"levels": list(levels), "floor": 0.05, "network": table, "fallback": table}


def test_a_version_2_state_loads_without_intervals_and_saves_as_version_2(tmp_path):
    state = PackagedState.load(_write(tmp_path, VERSION_2))
    assert state.format_version == 2 and state.intervals is None
    assert "intervals" not in json.loads(state.save(tmp_path / "again.json").read_text())


def test_a_version_3_state_carries_its_interval_quantiles(tmp_path):
    state = PackagedState.load(
        _write(tmp_path, VERSION_2 | {"format_version": 3, "intervals": _intervals()})
    )
    assert state.intervals.levels == (80, 95) and state.intervals.floor == 0.05
    assert len(state.intervals.network) == state.horizon == 12
    assert PackagedState.load(state.save(tmp_path / "again.json")) == state


def test_intervals_in_a_version_2_file_are_an_unknown_field(tmp_path):
    message = _one_line_error(_write(tmp_path, VERSION_2 | {"intervals": _intervals()}))
    assert "format version 2: unknown field 'intervals'" in message


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        (_intervals(horizon=11), "one row of quantiles per step of horizon 12"),
        (_intervals(levels=[80, 100]), "level 100 is outside (0, 100)"),
        (_intervals() | {"network": [[0.1] * 98] * 12}, "expected 99 quantiles per horizon step"),
    ],
)
def test_broken_intervals_are_one_line(tmp_path, intervals, expected):
    state = VERSION_2 | {"format_version": 3, "intervals": intervals}
    assert expected in _one_line_error(_write(tmp_path, state))


# --- format version 4: the columns of a multichannel target --------------------------------------

VERSION_3 = VERSION_2 | {"format_version": 3, "intervals": _intervals()}


def test_a_version_3_state_has_one_target_column_and_saves_as_version_3(tmp_path):
    state = PackagedState.load(_write(tmp_path, VERSION_3))
    assert state.channels == () and state.n_channels == 0
    assert "channels" not in json.loads(state.save(tmp_path / "again.json").read_text())


def test_a_version_4_state_names_the_channels_of_a_multichannel_target(tmp_path):
    assert FORMAT_VERSION == 4
    columns = {"id": "site", "time": "date", "target": ["HUFL", "OT"]}
    raw = VERSION_3 | {"format_version": 4, "columns": columns, "channels": ["HUFL", "OT"]}
    state = PackagedState.load(_write(tmp_path, raw))
    assert state.channels == ("HUFL", "OT") and state.n_channels == 2
    assert state.model_columns.targets == ("HUFL", "OT") and state.model_columns.multichannel
    assert PackagedState.load(state.save(tmp_path / "again.json")) == state


def test_channels_in_a_version_3_file_are_an_unknown_field(tmp_path):
    message = _one_line_error(_write(tmp_path, VERSION_3 | {"channels": ["a", "b"]}))
    assert "format version 3: unknown field 'channels'" in message
