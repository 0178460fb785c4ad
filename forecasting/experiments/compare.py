"""The main job: train an LSTM, then a GRU, under one budget; backtest both against
naive baselines; apply the rule; track everything in MLflow; register the winner.

MLflow layout: one parent run per comparison, a nested child run per model. The
winner's packaged forecaster gets the registry alias ``champion``, the other
family's ``challenger``.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from forecasting.config import PipelineConfig
from forecasting.data import ID, Columns, SeriesData, load_series
from forecasting.data.frequency import fixed_step
from forecasting.evaluation.backtest import Backtest, baseline_backtest, model_backtest
from forecasting.evaluation.decision import Decision, decide
from forecasting.experiments.auto import Choice, resolve
from forecasting.experiments.intervals import interval_state
from forecasting.models.baselines import seasonal_period
from forecasting.models.builder import build_forecaster
from forecasting.models.training import TrainResult, train
from forecasting.packaging.log import log_forecaster
from forecasting.tracking import plots
from forecasting.tracking.runs import flatten, sigterm_as_interrupt, tracked_run
from forecasting.tracking.store import ensure_experiment, use_store
from forecasting.windowing import WindowedData, make_windows
from forecasting.windowing.usable import LeftOut, left_out_frame, partition

log = logging.getLogger(__name__)

FAMILIES = ("lstm", "gru")  # the order is the rule: LSTM first, then GRU
CHAMPION, CHALLENGER = "champion", "challenger"


@dataclass
class FamilyResult:
    family: str
    gru_impl: str
    backtest: Backtest
    training: TrainResult
    n_params: int
    run_id: str
    model_uri: str
    version: str | None = None


@dataclass
class ComparisonResult:
    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    model_name: str
    decision: Decision
    table: pd.DataFrame
    families: dict[str, FamilyResult] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)  # the settings chosen from the data
    left_out: list[LeftOut] = field(default_factory=list)  # series the best baseline forecasts
    best_baseline: str = "seasonal_naive"

    @property
    def run_ids(self) -> list[str]:
        return [self.families[f].run_id for f in FAMILIES if f in self.families]


@dataclass
class Prepared:
    """The data of a comparison, validated, with every ``auto`` setting chosen."""

    cfg: PipelineConfig  # resolved: no ``auto`` left
    data: SeriesData  # the series the models train on
    windowed: WindowedData
    period: int
    choices: list[Choice] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


def prepare(cfg: PipelineConfig) -> Prepared:
    """Load, validate and window the data; choose what is ``auto``; set aside series too short
    to train on. Bad input fails here, before any run starts."""
    d = cfg.data
    columns = Columns(
        d.id_col, d.time_col, d.target, tuple(d.covariates) if d.covariates is not None else None
    )
    data = load_series(d.path, columns, freq=d.freq, fill=d.fill)
    period = cfg.rule.seasonal_period or seasonal_period(data.freq)
    lengths = data.frame.groupby(ID, sort=False).size()
    cfg, choices = resolve(cfg, lengths, fixed_step(data.freq), period)
    usable, left_out = partition(data, cfg.windowing, strict=d.strict)
    windowed = make_windows(usable, cfg.windowing)
    for choice in choices:
        log.info("chose %s", choice)
    return Prepared(cfg, usable, windowed, period, choices, left_out)


def _train_family(
    family: str,
    cfg: PipelineConfig,
    data: SeriesData,
    windowed: WindowedData,
    period: int,
    experiment_id: str,
    fallback: str,
    left_out: list[LeftOut],
) -> tuple[FamilyResult, keras.Model]:
    spec, budget = cfg.model, cfg.training
    impl = spec.impl_tag(family)
    with tracked_run(experiment_id=experiment_id, run_name=family, nested=True) as run:
        mlflow.set_tags({"model_family": family, "gru_impl": impl, "role": "candidate"})
        mlflow.log_params(flatten("", cfg.model_dump()) | {"model_family": family})
        keras.utils.set_random_seed(
            budget.seed
        )  # the same seed for both families: reproducible runs
        model = build_forecaster(
            family,
            spec,
            windowed.spec.lookback,
            windowed.spec.horizon,
            windowed.n_features,
            windowed.n_calendar,
            period,
            windowed.calendar_names,
        )
        log.info("training %s (%s parameters)", family.upper(), f"{model.count_params():,}")

        def on_epoch(epoch: int, logs: dict) -> None:
            mlflow.log_metrics(
                {("train_" + k if not k.startswith("val_") else k): v for k, v in logs.items()},
                step=epoch + 1,
            )

        result = train(model, windowed, budget, on_epoch=on_epoch, period=period)
        mlflow.log_metric(
            "val_loss", result.initial_val_loss, step=0
        )  # the untrained model: the curve's start
        bt = model_backtest(family, model, windowed, period, levels=cfg.intervals.levels)
        mlflow.log_metrics({f"backtest_{k}": v for k, v in bt.summary.items() if np.isfinite(v)})
        for k, row in bt.per_fold.iterrows():
            mlflow.log_metrics({f"fold{k}_{name}": v for name, v in row.items() if np.isfinite(v)})
        mlflow.log_metrics(
            {
                "n_params": model.count_params(),
                "train_seconds": result.seconds,
                "inference_ms_per_window": bt.inference_ms_per_window,
                "epochs_trained": len(result.loss),
                "best_epoch": result.best_epoch,
                "initial_val_loss": result.initial_val_loss,
            }
        )
        if bt.undefined:
            mlflow.set_tag("undefined_metrics", json.dumps(bt.undefined))
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            bt.per_series.rename_axis("series").to_csv(tmp / "per_series_metrics.csv")
            plots.forecasts_vs_actuals(
                tmp / "forecasts.png",
                windowed,
                {family.upper(): bt.forecasts},
                title=f"{family.upper()} forecasts vs actuals",
                bands={family.upper(): bt.intervals.bands},
            )
            plots.learning_curve(
                tmp / "learning_curve.png",
                result.loss,
                result.val_loss,
                result.best_epoch,
                f"{family.upper()} learning curve",
                result.initial_val_loss,
            )
            mlflow.log_artifacts(str(tmp))
        info = log_forecaster(
            model,
            data,
            windowed,
            family,
            impl,
            arch=spec.arch,
            period=period,
            fallback=fallback,
            left_out=tuple(x.uid for x in left_out),
            intervals=interval_state(cfg.intervals.levels, bt, windowed, period, fallback),
        )
    return FamilyResult(
        family, impl, bt, result, model.count_params(), run.info.run_id, info.model_uri
    ), model


def comparison_table(
    results: dict[str, FamilyResult], baselines: dict[str, Backtest]
) -> pd.DataFrame:
    rows = {}
    snaive = baselines["seasonal_naive"].summary
    for family, r in results.items():
        rows[family] = r.backtest.summary | {
            "params": r.n_params,
            "train_seconds": r.training.seconds,
            "inference_ms_per_window": r.backtest.inference_ms_per_window,
            "epochs": len(r.training.loss),
        }
    for name, bt in baselines.items():
        rows[name] = dict(bt.summary)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.insert(4, "skill_vs_snaive", 1.0 - table["mase"] / snaive["mase"])
    return table


def register(result: ComparisonResult, winner: str, beats_baseline: bool) -> None:
    client = mlflow.MlflowClient()
    try:
        client.create_registered_model(result.model_name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    for family, r in result.families.items():
        alias = CHAMPION if family == winner else CHALLENGER
        tags = {
            "model_family": family,
            "gru_impl": r.gru_impl,
            "comparison_run_id": result.parent_run_id,
            "beats_seasonal_naive": str(beats_baseline if family == winner else ""),
            "alias_at_registration": alias,
        }
        version = client.create_model_version(
            result.model_name,
            r.model_uri,
            run_id=r.run_id,
            tags={k: v for k, v in tags.items() if v},
            model_id=r.model_uri.removeprefix("models:/"),
        )
        r.version = version.version
        client.set_registered_model_alias(result.model_name, alias, r.version)
        log.info("registered %s version %s as %s", result.model_name, r.version, alias)


def run_comparison(cfg: PipelineConfig) -> ComparisonResult:
    """Run the whole LSTM-then-GRU comparison described by ``cfg``."""
    prepared = prepare(cfg)  # bad input stops here, before anything is written to the store
    cfg, data, windowed, period = prepared.cfg, prepared.data, prepared.windowed, prepared.period
    uri = use_store(cfg.mlflow.tracking_uri)
    experiment_id = ensure_experiment(cfg.mlflow.experiment, uri)
    rule = cfg.rule
    with (
        sigterm_as_interrupt(),
        tracked_run(experiment_id=experiment_id, run_name=f"{cfg.name}: lstm vs gru") as parent,
    ):
        mlflow.set_tags({"pipeline": cfg.name, "role": "comparison", "data.source": data.source})
        mlflow.log_params(
            flatten("", cfg.model_dump())
            | {
                "data.n_series": len(data.ids),
                "data.freq_inferred": data.freq,
                "seasonal_period": period,
                "windows.train": len(windowed.splits["train"]),
                "windows.val": len(windowed.splits["val"]),
                "windows.test": len(windowed.splits["test"]),
                "data.n_left_out": len(prepared.left_out),
            }
        )
        if prepared.choices:
            mlflow.set_tag("auto_choices", "; ".join(str(c) for c in prepared.choices))
        mlflow.log_text(data.summary(), "data_summary.txt")
        baselines = {
            k: baseline_backtest(k, windowed, period, levels=cfg.intervals.levels)
            for k in ("seasonal_naive", "naive")
        }
        metric = rule.metric
        best_baseline = min(baselines, key=lambda k: baselines[k].summary[metric])
        families: dict[str, FamilyResult] = {}
        for family in FAMILIES:
            families[family], _ = _train_family(
                family, cfg, data, windowed, period, experiment_id, best_baseline, prepared.left_out
            )
        lstm, gru = families["lstm"].backtest, families["gru"].backtest
        decision = decide(
            rule,
            lstm.summary[metric],
            gru.summary[metric],
            baselines["seasonal_naive"].summary[metric],
            lstm.window_errors,
            gru.window_errors,
            windowed.spec.horizon,
        )
        table = comparison_table(families, baselines)
        result = ComparisonResult(
            uri,
            experiment_id,
            parent.info.run_id,
            cfg.mlflow.model_name,
            decision,
            table,
            families,
            prepared.choices,
            prepared.left_out,
            best_baseline,
        )
        mlflow.set_tags(
            {
                "decision.winner": decision.winner,
                "decision.reason": decision.reason,
                "decision.beats_seasonal_naive": str(decision.beats_baseline).lower(),
            }
        )
        mlflow.log_metrics(
            {f"{name}_{metric}": v for name, v in table[metric].items() if np.isfinite(v)}
            | {"decision_p_value": decision.p_value, "decision_lstm_gain": decision.lstm_gain}
        )
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            table.rename_axis("model").to_csv(tmp / "comparison.csv")
            (tmp / "comparison.md").write_text(
                format_table(table) + "\n\n" + decision.reason + "\n"
            )
            (tmp / "decision.json").write_text(json.dumps(decision.to_dict(), indent=1))
            if prepared.left_out:
                left_out_frame(prepared.left_out, best_baseline).to_csv(
                    tmp / "left_out_series.csv", index=False
                )
            forecasts = {f.upper(): families[f].backtest.forecasts for f in FAMILIES} | {
                "seasonal naive": baselines["seasonal_naive"].forecasts
            }
            plots.comparison(
                tmp / "comparison.png",
                table.loc[["lstm", "gru", "seasonal_naive", "naive"]],
                windowed,
                forecasts,
                metric,
            )
            mlflow.log_artifacts(str(tmp))
        register(result, decision.winner, decision.beats_baseline)
        mlflow.set_tag("registered_model", f"{cfg.mlflow.model_name}@{CHAMPION}")
    return result


def format_table(table: pd.DataFrame) -> str:
    """The comparison table as Markdown."""
    shown = table.copy()
    cols = [
        "mae",
        "rmse",
        "smape",
        "mase",
        "skill_vs_snaive",
        "params",
        "train_seconds",
        "inference_ms_per_window",
    ]
    shown = shown[[c for c in cols if c in shown.columns]]
    header = "| model | " + " | ".join(shown.columns) + " |"
    lines = [header, "|" + "---|" * (len(shown.columns) + 1)]
    for name, row in shown.iterrows():
        cells = []
        for col, v in row.items():
            if pd.isna(v):
                cells.append("–")
            elif col == "params":
                cells.append(f"{int(v):,}")
            elif col == "skill_vs_snaive":
                cells.append(f"{v:+.1%}")
            else:
                cells.append(f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
