"""The settings chosen from the data (`experiments.auto.resolve`): every ``auto`` setting gets a
value from the series' lengths and frequency, a value the user gave is kept, and each choice
is what the module's docstring promises. Expected values are derived by hand from
``split_series`` (test 20 %, validation 10 %, 3 folds of the horizon at least)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecasting.config import AUTO, PipelineConfig, WindowSpec, build_config
from forecasting.errors import ConfigError
from forecasting.experiments.auto import (
    EPOCH_WORK,
    MAX_LOOKBACK,
    Choice,
    longest_lookback,
    preferred_lookback,
    resolve,
    train_windows,
)
from forecasting.models.baselines import seasonal_period
from forecasting.windowing import split_series

HOUR, DAY = pd.Timedelta(hours=1), pd.Timedelta(days=1)


def config(**sections) -> PipelineConfig:
    """The default pipeline with only the given keys set: ``config(windowing={"horizon": 12})``."""
    return build_config(sections, "test")


def chosen(choices: list[Choice]) -> dict[str, int]:
    return {c.key: c.value for c in choices}


def fits(length: int, spec: WindowSpec, lookback: int) -> bool:
    try:
        split_series(length, spec.model_copy(update={"lookback": lookback}), uid="probe")
        return True
    except ConfigError:
        return False


# --- lookback ----------------------------------------------------------------------------------


def test_hourly_panel_of_long_series_reads_two_weeks_in_daily_segments():
    assert seasonal_period("h") == 24
    cfg, choices = resolve(config(), pd.Series([2000, 2500, 3000]), HOUR, 24)
    assert cfg.windowing.lookback == 336 == 14 * 24
    assert cfg.model.segment == 24
    assert cfg.unresolved() == []
    values = chosen(choices)
    assert set(values) == {
        "windowing.lookback",
        "model.segment",
        "model.units",
        "windowing.stride",
        "training.batch_size",
        "training.max_epochs",
    }
    assert values["windowing.lookback"] == 336 and values["model.segment"] == 24
    for key, value in values.items():  # what was chosen is what the resolved config holds
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == value, key
    why = {c.key: c.why for c in choices}
    assert why["windowing.lookback"] == "two weeks"
    assert why["model.segment"] == "the season"
    assert str(choices[0]) == "windowing.lookback = 336 (two weeks)"


def test_every_value_the_user_gave_is_kept_and_not_reported_as_chosen():
    cfg, choices = resolve(config(windowing={"lookback": 48}), pd.Series([2000] * 3), HOUR, 24)
    assert cfg.windowing.lookback == 48
    assert "windowing.lookback" not in chosen(choices)
    assert cfg.model.segment == 24 and cfg.unresolved() == []

    given = config(
        windowing={"lookback": 100, "stride": 3},
        training={"max_epochs": 2, "batch_size": 16},
        model={"units": 8, "segment": 5},
    )
    cfg, choices = resolve(given, pd.Series([5000] * 50), HOUR, 24)
    assert choices == []
    assert cfg == given


def test_weekly_series_read_two_years():
    assert seasonal_period("W") == 52
    cfg, choices = resolve(config(windowing={"horizon": 13}), pd.Series([400, 450, 500]), None, 52)
    assert cfg.windowing.lookback == 104
    assert {c.key: c.why for c in choices}["windowing.lookback"] == "two years"
    assert cfg.model.segment == 52  # the season divides two years into two segments
    assert cfg.unresolved() == []


def test_the_lookback_fits_the_series_at_the_10_percent_quantile_of_lengths():
    """20 series, 2 of them (10 %) of 300 hourly points. Horizon 24: such a series keeps
    max(ceil(0.2 * 300), 3 * 24) = 72 test and max(30, 24) = 30 validation points, so
    training targets end at 198 and the lookback can be at most 198 - 24 = 174; rounded down to
    whole days: 168 (two weeks, 336, were wanted)."""
    lengths = pd.Series([300, 300] + [3000] * 18)
    spec = config().windowing.model_copy(update={"lookback": 1, "stride": 1})
    room = longest_lookback(300, spec)
    assert room == 174
    assert fits(300, spec, room) and not fits(300, spec, room + 1)

    cfg, choices = resolve(config(), lengths, HOUR, 24)
    assert cfg.windowing.lookback == 168 == room - room % 24
    assert fits(300, spec, cfg.windowing.lookback)
    why = {c.key: c.why for c in choices}["windowing.lookback"]
    assert why == "two weeks wanted (336), shortened to fit the 10% shortest series (300 points)"


def test_a_few_short_series_below_the_quantile_do_not_shrink_the_lookback():
    lengths = pd.Series(
        [300] + [3000] * 19
    )  # 5 %: left out of training later, not a reason to shorten
    cfg, _ = resolve(config(), lengths, HOUR, 24)
    assert cfg.windowing.lookback == 336


def test_the_room_is_rounded_down_to_whole_seasons_only_when_it_holds_two():
    """Lengths of 130 hours, horizon 6: test max(26, 18) = 26, validation max(13, 6) = 13, so
    training targets end at 91 and the room is 85 steps, rounded down to whole days: 72."""
    spec = config(windowing={"horizon": 6}).windowing.model_copy(
        update={"lookback": 1, "stride": 1}
    )
    assert longest_lookback(130, spec) == 85
    cfg, _ = resolve(config(windowing={"horizon": 6}), pd.Series([130] * 5), HOUR, 24)
    assert cfg.windowing.lookback == 72
    # 60 points: test 18, validation 6, training ends at 36, room 30 < 2 * 24: not rounded
    assert longest_lookback(60, spec) == 30
    cfg, _ = resolve(config(windowing={"horizon": 6}), pd.Series([60] * 5), HOUR, 24)
    assert cfg.windowing.lookback == 30


def test_a_panel_whose_longest_series_cannot_hold_the_horizon_is_refused_naming_the_horizon():
    # 24-step horizon: 3 folds need 72 test points, the validation 24, the first window 25 more
    with pytest.raises(
        ConfigError, match=r"longest series has 100 points: too short for horizon 24"
    ):
        resolve(config(), pd.Series([50, 80, 100]), HOUR, 24)


def test_when_the_quantile_series_has_no_room_the_longest_series_sets_the_lookback():
    """The longest, 400 points: test 80, validation 40, training ends at 280, room 256, rounded
    down to whole days: 240."""
    lengths = pd.Series([50] * 5 + [400] * 15)  # the 10 % quantile is 50 points: no room at all
    spec = config().windowing.model_copy(update={"lookback": 1, "stride": 1})
    assert longest_lookback(50, spec) == 0
    assert longest_lookback(400, spec) == 256
    cfg, _ = resolve(config(), lengths, HOUR, 24)
    assert cfg.windowing.lookback == 240


# --- units, stride, batch, epochs ------------------------------------------------------------


def test_units_rise_with_the_number_of_training_windows():
    """Lookback 48, horizon 24, 1000 hourly points: test 200, validation 100, training targets
    end at 700, so 700 - 48 - 24 + 1 = 629 training windows per series."""
    cfg = config(windowing={"lookback": 48})
    assert train_windows(np.array([1000]), cfg.windowing.model_copy(update={"stride": 1})) == 629

    def units(n_series: int) -> int:
        resolved, choices = resolve(cfg, pd.Series([1000] * n_series), HOUR, 24)
        why = {c.key: c.why for c in choices}["model.units"]
        assert why == f"{629 * n_series:,} training windows"
        return resolved.model.units

    assert units(7) == 64  # 4,403 windows
    assert units(8) == 128  # 5,032
    assert units(79) == 128  # 49,691
    assert units(80) == 256  # 50,320


def test_series_too_short_for_the_lookback_count_no_training_windows():
    spec = config(windowing={"lookback": 48}).windowing.model_copy(update={"stride": 1})
    assert train_windows(np.array([1000, 100]), spec) == 629


def test_stride_stays_1_while_an_epoch_is_within_the_work_bound():
    cfg, choices = resolve(config(windowing={"lookback": 48}), pd.Series([1000] * 80), HOUR, 24)
    assert cfg.windowing.stride == 1
    assert {c.key: c.why for c in choices}["windowing.stride"] == "every window"


def test_windows_per_series_bounds_the_epoch_instead_of_the_stride():
    """The panel of the test below (400 x 629 windows) with at most 32 windows of each series
    per epoch: every window stays a candidate (stride 1) and the batch size and epochs are
    chosen for 400 * 32 = 12,800 windows per epoch, not 251,600."""
    cfg, choices = resolve(
        config(windowing={"lookback": 48}, training={"windows_per_series": 32}),
        pd.Series([1000] * 400),
        HOUR,
        24,
    )
    why = {c.key: c.why for c in choices}
    assert cfg.windowing.stride == 1
    assert why["windowing.stride"] == "every window; at most 32 of each series per epoch"
    assert why["training.batch_size"] == "about 12,800 windows per epoch"
    assert cfg.training.max_epochs == min(50, max(5, int(2e11 // (12_800 * 3 * 256**2))))


def test_stride_thins_an_epoch_that_would_exceed_the_work_bound():
    """400 series of 1000 points, lookback 48, segment 24, horizon 24: 251,600 windows of
    2 + 1 segment steps at 256 units, 3 * 256**2 = 196,608 each: 4.95e10 > 2e10, stride 3."""
    cfg, choices = resolve(config(windowing={"lookback": 48}), pd.Series([1000] * 400), HOUR, 24)
    n_windows, work = 629 * 400, 3 * 256**2
    assert n_windows * work > EPOCH_WORK
    assert cfg.model.units == 256 and cfg.model.segment == 24
    assert cfg.windowing.stride == 3 == math.ceil(n_windows * work / EPOCH_WORK)
    assert (n_windows // cfg.windowing.stride) * work <= EPOCH_WORK
    assert {c.key: c.why for c in choices}[
        "windowing.stride"
    ] == "251,600 windows thinned to about 83,866 per epoch"


@pytest.mark.parametrize("n_series", [1, 20, 400, 3000])
def test_any_auto_stride_keeps_one_epoch_under_the_bound(n_series):
    cfg, _ = resolve(config(windowing={"lookback": 48}), pd.Series([1000] * n_series), HOUR, 24)
    m, w = cfg.model, cfg.windowing
    work = (w.lookback // m.segment + math.ceil(w.horizon / m.segment)) * m.units**2
    n_windows = 629 * n_series
    assert (n_windows // w.stride) * work <= EPOCH_WORK
    if n_windows * work <= EPOCH_WORK:
        assert w.stride == 1
    else:
        assert w.stride > 1 and (n_windows // (w.stride - 1)) * work > EPOCH_WORK * 0.99
    assert cfg.unresolved() == []
    assert 32 <= cfg.training.batch_size <= 256 and 5 <= cfg.training.max_epochs <= 50


def test_pointwise_work_counts_every_lookback_step():
    cfg, _ = resolve(
        config(windowing={"lookback": 48}, model={"arch": "pointwise", "units": 64}),
        pd.Series([1000] * 3000),
        HOUR,
        24,
    )
    n_windows, work = 629 * 3000, 48 * 64**2  # 1,887,000 windows of 196,608: 3.7e11
    assert cfg.windowing.stride == math.ceil(n_windows * work / EPOCH_WORK) == 19


# --- the lookback aimed for ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "period", "horizon", "expected"),
    [
        (HOUR, 24, 24, (336, "two weeks")),
        (pd.Timedelta(minutes=30), 48, 24, (672, "two weeks")),
        (pd.Timedelta(minutes=15), 96, 24, (MAX_LOOKBACK, "capped at 720 steps")),  # 1344 steps
        (pd.Timedelta(minutes=1), 1440, 60, (720, "capped at 720 steps")),
        (DAY, 7, 14, (112, "16 weeks")),
        (None, 52, 13, (104, "two years")),
        (None, 12, 6, (36, "three seasons")),
        (None, 4, 4, (12, "three seasons")),
        (None, 1, 10, (40, "four horizons")),
        (HOUR, 24, 500, (500, "the horizon")),
        (DAY, 7, 200, (200, "the horizon")),
        (None, 12, 48, (48, "the horizon")),
        (None, 1, 300, (720, "capped at 720 steps")),  # four horizons would be 1200
    ],
)
def test_preferred_lookback(step, period, horizon, expected):
    assert preferred_lookback(step, period, horizon) == expected


def test_preferred_lookback_is_at_least_the_horizon_and_at_most_720():
    for step in (HOUR, DAY, None):
        for period in (1, 7, 12, 24, 52):
            for horizon in (1, 7, 24, 100, 336, 700):
                steps, _ = preferred_lookback(step, period, horizon)
                assert horizon <= steps <= MAX_LOOKBACK, (step, period, horizon)


def test_auto_is_what_the_config_defaults_to():
    cfg = PipelineConfig()
    assert (
        cfg.windowing.lookback
        == cfg.windowing.stride
        == cfg.model.units
        == cfg.model.segment
        == AUTO
    )
    assert cfg.training.max_epochs == cfg.training.batch_size == AUTO
    assert sorted(cfg.unresolved()) == sorted(
        [
            "windowing.lookback",
            "windowing.stride",
            "model.units",
            "model.segment",
            "training.max_epochs",
            "training.batch_size",
        ]
    )
