"""One default per setting: the `forecast compare` flags, the YAML config and the library specs agree.

A flag not given is None, so the config's default applies, and the flag's help names that
default; the config a bare command line builds is `PipelineConfig()` plus the horizon and the
data path; the YAML pipeline loads and takes ``--set`` overrides; and the specs the library
builds (`WindowSpec`, `ModelSpec`, `TrainBudget`, `Rule`) are the config's own sections, with
the same defaults.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forecasting import config
from forecasting.cli import build_parser
from forecasting.cli.compare import FLAGS, config_tree
from forecasting.config import (
    AUTO,
    DataConfig,
    IntervalSpec,
    MlflowConfig,
    ModelSpec,
    MonitoringConfig,
    PipelineConfig,
    Rule,
    TrainBudget,
    WindowSpec,
    build_config,
    load_config,
)
from forecasting.errors import ConfigError

DEMO = Path(__file__).resolve().parents[1] / "pipelines" / "demo.yaml"
SECTIONS = {
    "data": DataConfig,
    "windowing": WindowSpec,
    "model": ModelSpec,
    "training": TrainBudget,
    "rule": Rule,
    "intervals": IntervalSpec,
    "monitoring": MonitoringConfig,
    "mlflow": MlflowConfig,
}
HORIZON = 5
# One value per flag, none of them the default: a new flag must be added here.
GIVEN = {
    "--horizon": "7",
    "--lookback": "30",
    "--arch": "pointwise",
    "--units": "9",
    "--segment": "6",
    "--loss": "huber",
    "--max-epochs": "3",
    "--batch-size": "17",
    "--seed": "4",
    "--gru-impl": "keras",
    "--experiment": "exp",
    "--model-name": "name",
}


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _default(key: str):
    section, name = key.split(".")
    return getattr(getattr(PipelineConfig(), section), name)


def parse(*extra: str):
    return build_parser().parse_args(["compare", "--data", "X", "--horizon", str(HORIZON), *extra])


def compare_help(capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["compare", "--help"])
    assert exit_.value.code == 0
    return " ".join(
        capsys.readouterr().out.split()
    )  # argparse wraps the help; compare it unwrapped


# --- the compare flags ----------------------------------------------------------------------------


def test_every_flag_maps_onto_its_own_config_key():
    keys = [key for key, _, _ in FLAGS.values()]
    assert len(set(keys)) == len(keys), "two flags set one key"
    for flag, (key, kind, _) in FLAGS.items():
        section, name = key.split(".")
        assert name in SECTIONS[section].model_fields, flag
        assert _dest(flag) == name, f"{flag} sets {key}: the flag is named after the key"
        default = _default(key)
        assert default == AUTO or isinstance(default, kind), (flag, default)


@pytest.mark.parametrize("flag", list(FLAGS))
def test_a_flag_not_given_is_none_so_the_config_default_applies(flag):
    assert getattr(parse(), _dest(flag)) == (HORIZON if flag == "--horizon" else None)


def test_strict_and_set_not_given_change_nothing():
    args = parse()
    assert args.strict is None and args.overrides == []
    assert "strict" not in config_tree(args)["data"]


@pytest.mark.parametrize("flag", [f for f in FLAGS if f != "--horizon"])
def test_the_help_names_the_configs_default(flag, capsys):
    key, _, text = FLAGS[flag]
    assert f"{text} (default {_default(key)})" in compare_help(capsys)


def test_the_horizon_is_required_and_its_help_names_no_default(capsys):
    printed = compare_help(capsys)
    assert f"{FLAGS['--horizon'][2]} (default" not in printed
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["compare", "--data", "X"])
    assert exit_.value.code == 2
    assert "--horizon" in capsys.readouterr().err


def test_a_bare_command_line_builds_the_default_config_plus_the_horizon():
    cfg = build_config(config_tree(parse()), "command line")
    default = PipelineConfig()
    assert cfg.windowing == WindowSpec(horizon=HORIZON)
    assert cfg.windowing.model_dump() == default.windowing.model_dump() | {"horizon": HORIZON}
    for section in ("model", "training", "rule", "intervals", "monitoring", "mlflow"):
        assert getattr(cfg, section) == getattr(default, section), section
    # The data options' own defaults (id, time and target columns, fill) are the config's.
    assert cfg.data == DataConfig(path="X")
    assert cfg.data.model_dump() == default.data.model_dump() | {"path": "X"}
    assert cfg.unresolved() == default.unresolved()


def test_each_flag_sets_its_key_and_nothing_else():
    assert set(GIVEN) == set(FLAGS), "give every flag a value here"
    args = build_parser().parse_args(
        ["compare", "--data", "X", *(x for item in GIVEN.items() for x in item)]
    )
    cfg = build_config(config_tree(args), "command line")
    expected = {section: getattr(PipelineConfig(), section).model_dump() for section in SECTIONS}
    expected["data"]["path"] = "X"
    for flag, (key, kind, _) in FLAGS.items():
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == kind(GIVEN[flag]), flag
        expected[section][name] = kind(GIVEN[flag])
    assert {section: getattr(cfg, section).model_dump() for section in SECTIONS} == expected


def test_strict_and_set_reach_the_config():
    args = parse("--strict", "--set", "model.dropout=0.25", "--set", "rule.alpha=0.01")
    cfg = build_config(config_tree(args), "command line", args.overrides)
    assert (cfg.data.strict, cfg.model.dropout, cfg.rule.alpha) == (True, 0.25, 0.01)


def test_a_bad_flag_value_is_the_configs_error():
    args = parse("--arch", "x")
    with pytest.raises(ConfigError) as err:
        build_config(config_tree(args), "command line")
    assert (
        str(err.value)
        == "command line: model.arch: Input should be 'segment' or 'pointwise' (received 'x')"
    )


# --- the YAML pipeline ----------------------------------------------------------------------------


def test_the_demo_pipeline_loads_and_keys_it_does_not_give_take_the_defaults():
    cfg = load_config(DEMO)
    tree = yaml.safe_load(DEMO.read_text())
    for section, cls in SECTIONS.items():
        assert getattr(cfg, section) == cls(**tree.get(section, {})), section
    assert cfg.name == tree["name"]


def test_a_set_override_takes_effect_on_the_demo_pipeline():
    base = load_config(DEMO)
    assert base.model.units != 8
    changed = load_config(DEMO, ["model.units=8"])
    assert changed.model.units == 8
    assert changed.model == base.model.model_copy(update={"units": 8})
    for section in set(SECTIONS) - {"model"}:
        assert getattr(changed, section) == getattr(base, section), section


# --- the library specs are the config's sections ------------------------------------------------------


def test_the_library_specs_are_the_config_sections():
    from forecasting.evaluation.decision import Rule as DecisionRule
    from forecasting.models.builder import ModelSpec as BuilderSpec
    from forecasting.models.training import TrainBudget as TrainingBudget
    from forecasting.windowing import WindowSpec as WindowingSpec
    from forecasting.windowing.splits import WindowSpec as SplitsSpec

    assert WindowingSpec is SplitsSpec is WindowSpec
    assert BuilderSpec is ModelSpec
    assert TrainingBudget is TrainBudget
    assert DecisionRule is Rule
    assert (
        config.WindowingConfig,
        config.ModelConfig,
        config.TrainingConfig,
        config.RuleConfig,
    ) == (WindowSpec, ModelSpec, TrainBudget, Rule)
    for section, cls in SECTIONS.items():
        assert PipelineConfig.model_fields[section].annotation is cls, section


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_spec_has_the_defaults_the_pipeline_config_holds(section):
    cls = SECTIONS[section]
    held = getattr(PipelineConfig(), section)
    assert held == cls()
    for name, field in cls.model_fields.items():
        assert getattr(held, name) == field.default, f"{section}.{name}"


def test_the_auto_settings_are_the_ones_chosen_from_the_data():
    assert PipelineConfig().unresolved() == [
        "windowing.lookback",
        "windowing.stride",
        "model.units",
        "model.segment",
        "training.max_epochs",
        "training.batch_size",
    ]
    assert WindowSpec().step_train == 1
    assert WindowSpec(stride=3).step_train == 3


def test_library_code_refuses_a_setting_still_auto():
    from forecasting.models.builder import build_forecaster
    from forecasting.models.training import train
    from forecasting.windowing import make_windows

    with pytest.raises(ConfigError, match="windowing.lookback is 'auto'"):
        make_windows(None, WindowSpec())
    with pytest.raises(ConfigError, match="model.units is 'auto'"):
        build_forecaster("gru", ModelSpec(), 48, 12, 3, 2, 24)
    with pytest.raises(
        ConfigError, match="training.max_epochs and training.batch_size must be chosen"
    ):
        train(None, None, TrainBudget(max_epochs=2))


@pytest.mark.parametrize("cls", list(SECTIONS.values()))
def test_specs_take_keywords_only_and_are_frozen(cls):
    with pytest.raises(TypeError):
        cls(1)
    spec = cls()
    name = next(iter(cls.model_fields))
    with pytest.raises(ValueError, match="frozen"):
        setattr(spec, name, getattr(spec, name))


# --- the retrain flags ----------------------------------------------------------------------------


def test_the_retrain_flags_set_their_config_keys_and_name_its_defaults(capsys):
    from forecasting.cli.retrain import FLAGS as RETRAIN_FLAGS
    from forecasting.cli.retrain import overrides

    bare = build_parser().parse_args(["retrain", str(DEMO)])
    assert overrides(bare) == []  # flags not given: the pipeline's values (or the defaults) apply
    assert load_config(DEMO, overrides(bare)).training == load_config(DEMO).training
    given = {"--warm-start": "latest", "--warm-epochs": "0"}
    assert set(given) == set(RETRAIN_FLAGS), "give every retrain flag a value here"
    args = build_parser().parse_args(["retrain", str(DEMO), *(x for i in given.items() for x in i)])
    cfg = load_config(DEMO, overrides(args))
    assert (cfg.training.warm_start, cfg.training.warm_epochs) == ("latest", 0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["retrain", "--help"])
    printed = " ".join(capsys.readouterr().out.split())
    for flag, (key, _, text) in RETRAIN_FLAGS.items():
        assert _dest(flag) == key.split(".")[1]
        assert f"{text} (default {_default(key)})" in printed
    assert (TrainBudget().warm_start, TrainBudget().warm_epochs) == ("auto", 3)
    assert "training.warm_start" not in PipelineConfig().unresolved()  # not chosen from the data
