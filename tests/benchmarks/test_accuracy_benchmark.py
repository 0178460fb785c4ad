"""`forecast benchmark accuracy`: our windowing, scaling and baselines reproduce the published
ETTh1 naive scores, and the command scores every model in every setting.

The standard ETTh1 protocol is an external check of the parts every forecast stands on: the
chronological split (rows 8640 / 11520 / 14400), scalers fitted on the training rows only,
test windows at every hour, and the naive forecasts. If any of them drifted by a window or
leaked a statistic, these numbers would move. Needs ../shared/data/ETTh1.csv (the project's
reference data) and skips cleanly without those tests; the rest run on an ETTh1-shaped file
whose columns repeat one day exactly, so the baselines' errors are known by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.benchmarks.accuracy import (
    BASELINES,
    COLUMNS,
    PERIOD,
    QUICK,
    RECIPE,
    REFERENCE,
    TEST_ROWS,
    TRAIN_ROWS,
    USED_ROWS,
    VAL_ROWS,
    Forecaster,
    Setting,
    benchmark_accuracy,
    evaluate,
    load_etth1,
    protocol_windows,
    resolve_auto,
)
from forecasting.cli import build_parser, main
from forecasting.cli.benchmark import ACCURACY_FLAGS, accuracy_sections
from forecasting.config import ModelSpec, PipelineConfig, TrainBudget
from forecasting.errors import ConfigError, DataError
from forecasting.models.segment import choose_segment

ETTH1 = Path(__file__).resolve().parents[3] / "shared" / "data" / "ETTh1.csv"
needs_etth1 = pytest.mark.skipif(not ETTH1.exists(), reason=f"reference data not present: {ETTH1}")


@needs_etth1
@pytest.mark.parametrize("setting", ["univariate", "multivariate"])
@pytest.mark.parametrize("horizon", [24, 96])
def test_baselines_reproduce_the_published_scores(setting, horizon):
    protocol = Setting(horizon, lookback=96, mode=setting)
    windowed = protocol_windows(ETTH1, protocol)
    n_series = 7 if setting == "multivariate" else 1
    assert len(windowed.splits["test"]) == n_series * (TEST_ROWS - horizon + 1), (
        "a test window at every hour"
    )
    for kind in BASELINES:
        score = evaluate(kind, protocol, windowed)
        assert (score.model, score.setting, score.epochs) == (kind, protocol, None)
        mse, mae = REFERENCE[(setting, horizon)][score.model]
        assert round(score.mse, 3) == mse, (score.model, score.mse)
        assert round(score.mae, 3) == mae, (score.model, score.mae)


@needs_etth1
def test_scalers_see_only_the_training_rows():
    windowed = protocol_windows(ETTH1, Setting(24, lookback=96))
    ot = pd.read_csv(ETTH1, nrows=TRAIN_ROWS + VAL_ROWS + TEST_ROWS)["OT"].to_numpy()
    scaler = windowed.series[0].scaler
    np.testing.assert_allclose(scaler.mean_[0], ot[:TRAIN_ROWS].mean())
    np.testing.assert_allclose(scaler.scale_[0], ot[:TRAIN_ROWS].std())
    test = windowed.splits["test"]
    assert test.origin.min() == TRAIN_ROWS + VAL_ROWS - 1, "the first forecast starts at row 11520"


def test_a_file_that_is_not_etth1_is_one_clear_error(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=10, freq="h"), "OT": 1.0}).to_csv(
        path, index=False
    )
    with pytest.raises(DataError, match="column 'HUFL' not found"):
        load_etth1(path)


# --- an ETTh1-shaped file whose every column repeats the same day ------------------------------

DAY = np.random.default_rng(0).normal(10.0, 3.0, size=(24, len(COLUMNS)))
HORIZON, LOOKBACK = 25, 48  # 2,880 - 25 + 1 = 2,856 test windows: 119 of every hour of the day


@pytest.fixture(scope="module")
def periodic_etth1(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("etth1") / "ETTh1.csv"
    frame = pd.DataFrame(np.tile(DAY, (USED_ROWS // 24 + 24, 1)), columns=list(COLUMNS))
    frame.insert(0, "date", pd.date_range("2016-07-01", periods=len(frame), freq="h").astype(str))
    frame.to_csv(path, index=False)
    return path


def naive_errors_by_hand(day: np.ndarray, horizon: int) -> tuple[float, float]:
    """Naive repeats the value at the origin: every hour of the day is an origin equally often,
    and the errors are scaled by the training rows' (whole days') standard deviation."""
    errors = np.array(
        [day[(hour + k) % 24] - day[hour] for hour in range(24) for k in range(1, horizon + 1)]
    )
    errors /= day.std()
    return float(np.mean(errors**2)), float(np.mean(np.abs(errors)))


def test_baselines_score_what_is_derived_by_hand(periodic_etth1):
    setting = Setting(HORIZON, LOOKBACK)
    windowed = protocol_windows(periodic_etth1, setting)
    assert len(windowed.splits["test"]) == 119 * 24
    seasonal = evaluate("seasonal_naive", setting, windowed)
    assert seasonal.mse == pytest.approx(0.0, abs=1e-20) and seasonal.mae == pytest.approx(
        0.0, abs=1e-10
    )
    naive = evaluate("naive", setting, windowed)
    mse, mae = naive_errors_by_hand(DAY[:, COLUMNS.index("OT")], HORIZON)
    assert naive.mse == pytest.approx(mse, rel=1e-9) and naive.mae == pytest.approx(mae, rel=1e-9)
    assert naive.seconds > 0


def test_auto_settings_are_chosen_from_the_windows_as_compare_chooses_them(periodic_etth1):
    from forecasting.experiments.auto import resolve

    windowed = protocol_windows(periodic_etth1, Setting(HORIZON, LOOKBACK))
    forecaster, budget = resolve_auto(
        Forecaster("gru", ModelSpec(skip="last")), TrainBudget(patience=5), windowed
    )
    assert forecaster.cell == "gru"
    cfg = PipelineConfig(windowing=windowed.spec, model=forecaster.spec, training=budget)
    assert cfg.unresolved() == []
    expected, _ = resolve(
        PipelineConfig(
            windowing=windowed.spec, model=ModelSpec(skip="last"), training=TrainBudget(patience=5)
        ),
        pd.Series([USED_ROWS]),
        pd.Timedelta(hours=1),
        PERIOD,
    )
    assert (forecaster.spec, budget) == (expected.model, expected.training)
    assert forecaster.spec.segment == choose_segment(LOOKBACK, PERIOD)
    assert (forecaster.spec.skip, budget.patience) == ("last", 5), "settings given are kept"
    given = (
        Forecaster("lstm", ModelSpec(units=4, segment=8)),
        TrainBudget(max_epochs=1, batch_size=16),
    )
    assert resolve_auto(*given, windowed) == given, "nothing to choose: returned as given"


def test_windows_that_do_not_match_the_setting_are_refused(periodic_etth1):
    windowed = protocol_windows(periodic_etth1, Setting(HORIZON, LOOKBACK))
    with pytest.raises(ValueError, match="do not match"):
        evaluate("naive", Setting(HORIZON + 1, LOOKBACK), windowed)


def test_benchmark_accuracy_scores_every_model_in_every_setting(periodic_etth1):
    settings = [Setting(HORIZON, LOOKBACK, mode) for mode in ("univariate", "multivariate")]
    report = benchmark_accuracy(periodic_etth1, settings, models=BASELINES)
    scores = [(s["setting"]["mode"], s["model"]) for s in report.data["scores"]]
    assert scores == [
        (mode, model) for mode in ("univariate", "multivariate") for model in BASELINES
    ]
    # Multivariate: seven series, each scaled by its own training rows; naive averages over them.
    by_hand = np.mean([naive_errors_by_hand(DAY[:, c], HORIZON)[0] for c in range(len(COLUMNS))])
    assert report.metrics[f"multivariate.h{HORIZON}.l{LOOKBACK}.naive.mse"] == pytest.approx(
        by_hand, rel=1e-9
    )
    assert report.metrics[
        f"multivariate.h{HORIZON}.l{LOOKBACK}.seasonal_naive.mse"
    ] == pytest.approx(0.0, abs=1e-20)
    for mode in ("univariate", "multivariate"):
        assert f"ETTh1, {mode}, horizon {HORIZON}, lookback {LOOKBACK}:" in report.markdown


@pytest.fixture(scope="module")
def accuracy_run(periodic_etth1, tmp_path_factory, run_in_checkout):
    """`forecast benchmark accuracy` with default options (apart from a tiny budget), from the
    checkout's root: baselines, LSTM and GRU."""
    argv = [
        "benchmark",
        "accuracy",
        "--data",
        str(periodic_etth1),
        "--horizon",
        str(HORIZON),
        "--lookback",
        str(LOOKBACK),
        "--mode",
        "univariate",
        "--units",
        "4",
        "--max-epochs",
        "1",
        "--batch-size",
        "1024",
    ]
    return run_in_checkout(argv, tmp_path_factory.mktemp("store"))


def test_accuracy_with_default_options_writes_nothing_into_the_source_tree(accuracy_run):
    assert accuracy_run.status == 0, accuracy_run.printed
    assert accuracy_run.changed == [], "forecast benchmark accuracy wrote into the checkout"


def test_accuracy_trains_the_lstm_and_the_gru_within_the_budget(accuracy_run, tmp_path):
    report = json.loads(accuracy_run.artifact("etth1_accuracy.json", tmp_path))
    scores = {s["model"]: s for s in report["scores"]}
    assert list(scores) == ["naive", "seasonal_naive", "lstm", "gru"]
    for model, score in scores.items():
        assert score["setting"] == {"horizon": HORIZON, "lookback": LOOKBACK, "mode": "univariate"}
        assert score["seconds"] > 0
        assert score["epochs"] == (None if model in BASELINES else 1)
        assert np.isfinite(score["mse"]) and np.isfinite(score["mae"])
    assert [m["units"] for m in report["models"][2:]] == [4, 4]
    assert [m["cell"] for m in report["models"][2:]] == ["lstm", "gru"]
    assert report["budget"]["max_epochs"] == 1 and report["budget"]["batch_size"] == 1024
    # The flags given, then the benchmark's recipe, then the config's defaults (auto ones chosen
    # from the windows).
    model_recipe, training_recipe = _recipe("model"), _recipe("training")
    for model in ("lstm", "gru"):
        trained = scores[model]["trained_with"]
        assert (
            trained["model"]
            == ModelSpec(
                **model_recipe | {"units": 4, "segment": choose_segment(LOOKBACK, PERIOD)}
            ).model_dump()
        )
        assert (
            trained["training"]
            == TrainBudget(**training_recipe | {"max_epochs": 1, "batch_size": 1024}).model_dump()
        )
    assert all(scores[b]["trained_with"] == {} for b in BASELINES)


def test_accuracy_prints_the_table_and_logs_it(accuracy_run, tmp_path):
    printed = accuracy_run.printed
    assert accuracy_run.artifact("etth1_accuracy.md", tmp_path) in printed
    assert f"ETTh1, univariate, horizon {HORIZON}, lookback {LOOKBACK}:" in printed
    for model in ("naive", "seasonal_naive", "lstm", "gru"):
        assert f"| {model} | " in printed
    import mlflow

    run = mlflow.MlflowClient(tracking_uri=accuracy_run.uri).get_run(accuracy_run.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["benchmark"] == "etth1_accuracy"
    assert run.data.metrics[
        f"univariate.h{HORIZON}.l{LOOKBACK}.seasonal_naive.mse"
    ] == pytest.approx(0.0, abs=1e-20)
    assert run.data.params["budget.max_epochs"] == "1"


def test_a_missing_data_file_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "ETTh1.csv"
    assert main(["benchmark", "accuracy", "--data", str(missing), "--no-mlflow"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "cannot read the ETTh1 CSV" in err


# --- the accuracy flags: one per config setting; not given, the recipe's value or the config's default


ACCURACY_ONLY = {
    "--skip": ("model.skip", str),
    "--dropout": ("model.dropout", float),
}  # not compare flags


def _accuracy_args(*extra: str):
    return build_parser().parse_args(["benchmark", "accuracy", "--data", "ETTh1.csv", *extra])


def _recipe(section: str) -> dict:
    return {
        key.split(".")[1]: value for key, value in RECIPE.items() if key.startswith(section + ".")
    }


def _config_default(key: str):
    section, name = key.split(".")
    return getattr(getattr(PipelineConfig(), section), name)


def test_the_recipe_names_config_keys_and_only_differs_from_their_defaults():
    flags = {key for key, *_ in ACCURACY_FLAGS.values()} | {
        key for key, _ in ACCURACY_ONLY.values()
    }
    for key, value in RECIPE.items():
        assert key in flags, f"{key}: the recipe sets a key no flag can change"
        assert value != _config_default(key), f"{key}: the recipe repeats the config's default"


def test_accuracy_flags_not_given_leave_the_recipe_then_the_configs_defaults():
    args = _accuracy_args()
    for flag in [*ACCURACY_FLAGS, *ACCURACY_ONLY]:
        assert getattr(args, flag.lstrip("-").replace("-", "_")) is None, flag
    spec, budget = accuracy_sections(args)
    assert spec == ModelSpec(**_recipe("model"))
    assert budget == TrainBudget(**_recipe("training"))
    for section, built in (("model", spec), ("training", budget)):
        for name, value in built:
            key = f"{section}.{name}"
            assert value == RECIPE.get(key, _config_default(key)), key


def test_accuracy_help_names_each_default(capsys):
    with pytest.raises(SystemExit):
        _accuracy_args("--help")
    printed = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    for flag, (key, _kind, _choices, text) in ACCURACY_FLAGS.items():
        assert f"{text} (default {RECIPE.get(key, _config_default(key))})" in printed, flag
    for flag, (key, _kind) in ACCURACY_ONLY.items():
        assert (
            f"(default {RECIPE.get(key, _config_default(key))})" in printed.split(flag, 2)[2][:200]
        ), flag


def test_each_accuracy_flag_sets_its_config_key_over_the_recipe():
    values = {
        "--arch": "pointwise",
        "--units": "7",
        "--segment": "6",
        "--gru-impl": "keras",
        "--max-epochs": "2",
        "--patience": "9",
        "--batch-size": "33",
        "--learning-rate": "0.02",
        "--seed": "5",
        "--loss": "huber",
        "--skip": "seasonal",
        "--dropout": "0.1",
    }
    flags = {
        flag: (key, kind) for flag, (key, kind, *_rest) in ACCURACY_FLAGS.items()
    } | ACCURACY_ONLY
    assert set(values) == set(flags)
    spec, budget = accuracy_sections(_accuracy_args(*(x for item in values.items() for x in item)))
    sections = {"model": spec, "training": budget}
    for flag, (key, kind) in flags.items():
        section, name = key.split(".")
        assert getattr(sections[section], name) == kind(values[flag]), flag


def test_quick_shrinks_the_budget_and_flags_still_win():
    spec, budget = accuracy_sections(_accuracy_args("--quick"))
    quick = {key: value for key, value in QUICK.items() if "." in key}
    assert quick, "QUICK sets some config keys"
    for key, value in quick.items():
        section, name = key.split(".")
        assert getattr({"model": spec, "training": budget}[section], name) == value, key
    spec, _ = accuracy_sections(_accuracy_args("--quick", "--units", "3"))
    assert spec.units == 3


def test_a_bad_accuracy_flag_is_the_configs_error():
    with pytest.raises(
        ConfigError, match=r"^model.units: Input should be greater than 0 \(received 0\)$"
    ):
        accuracy_sections(_accuracy_args("--units", "0"))
