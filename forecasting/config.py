"""One typed pipeline config: validated once, logged to MLflow whole, enough to rebuild a model.

A YAML file (``pipelines/*.yaml``) maps onto :class:`PipelineConfig`; unknown keys and
wrong types are errors that name the key. ``--set a.b=value`` overrides any key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from forecasting.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
    path: str = "bundled:city-temps"
    id_col: str = "unique_id"
    time_col: str = "ds"
    target: str = "y"
    covariates: list[str] | None = None
    freq: str | None = None
    fill: Literal["interpolate", "ffill", "drop"] = "interpolate"


class WindowingConfig(_Section):
    lookback: int = Field(72, gt=0)
    horizon: int = Field(24, gt=0)
    stride: int = Field(1, gt=0)
    val_fraction: float = Field(0.1, gt=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    n_folds: int = Field(3, gt=0)
    backtest_stride: int | None = Field(None, gt=0)


class ModelConfig(_Section):
    units: int = Field(32, gt=0)
    layers: int = Field(1, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    gru_impl: Literal["custom", "cell", "keras"] = "custom"
    skip: Literal["seasonal", "last", "none"] = "seasonal"


class TrainingConfig(_Section):
    max_epochs: int = Field(20, gt=0)
    patience: int = Field(3, gt=0)
    batch_size: int = Field(256, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    seed: int = 42


class RuleConfig(_Section):
    metric: Literal["mase", "smape", "mae", "rmse"] = "mase"
    tolerance: float = Field(0.05, ge=0, lt=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    test: Literal["wilcoxon", "diebold_mariano"] = "wilcoxon"
    seasonal_period: int | None = Field(None, gt=0)


class MlflowConfig(_Section):
    experiment: str = "forecasting"
    model_name: str = "forecaster"
    tracking_uri: str | None = None


class PipelineConfig(_Section):
    name: str = "pipeline"
    data: DataConfig = DataConfig()
    windowing: WindowingConfig = WindowingConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    rule: RuleConfig = RuleConfig()
    mlflow: MlflowConfig = MlflowConfig()

    @model_validator(mode="after")
    def _fractions(self):
        w = self.windowing
        if w.val_fraction + w.test_fraction >= 0.9:
            raise ValueError("windowing.val_fraction + windowing.test_fraction must leave 10% for training")
        return self


def _first_error(exc: ValidationError, source: str) -> ConfigError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return ConfigError(f"{source}: unknown key {key!r}")
    received = f" (received {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    return ConfigError(f"{source}: {key}: {err['msg']}{received}")


def set_key(tree: dict, dotted: str, raw: str, source: str = "--set") -> None:
    """Apply ``a.b=value``; the value is parsed as YAML (numbers, booleans, lists)."""
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: {dotted!r}: {part!r} is not a section")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {dotted}: cannot parse value {raw!r}") from exc


def build_config(tree: dict, source: str, overrides: list[str] | tuple[str, ...] = ()) -> PipelineConfig:
    tree = dict(tree or {})
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, value = item.split("=", 1)
        set_key(tree, key.strip(), value.strip())
    try:
        return PipelineConfig.model_validate(tree)
    except ValidationError as exc:
        raise _first_error(exc, source) from None


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> PipelineConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: pipeline config not found")
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}") from exc
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return build_config(tree, str(path), overrides)
