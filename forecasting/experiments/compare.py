"""The main job: train an LSTM, then a GRU, under one budget; backtest both against
naive baselines; apply the rule; track everything in MLflow; register the winner.

MLflow layout: one parent run per comparison, a nested child run per model. Both families are
registered as versions (tag ``model_family``); the comparison's candidate — the kept RNN if it
beats the best baseline, else that baseline packaged as a forecaster — becomes ``champion`` only
through the guard of :mod:`forecasting.experiments.champion`, else ``challenger``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd

from forecasting.config import PipelineConfig
from forecasting.data import ID, TARGET, Columns, SeriesData, load_series
from forecasting.data.frequency import fixed_step
from forecasting.evaluation.backtest import Backtest, baseline_backtest, model_backtest
from forecasting.evaluation.decision import Decision, decide
from forecasting.evaluation.left_out import left_out_backtest
from forecasting.experiments import describe
from forecasting.experiments.auto import Choice, resolve
from forecasting.experiments.champion import Promotion, data_signature, settle
from forecasting.experiments.intervals import interval_state
from forecasting.experiments.warm_start import StartingPoint, cold, plan_starts
from forecasting.models.baselines import seasonal_period
from forecasting.models.builder import build_for_windows, untrained_forecast
from forecasting.models.training import TrainResult, train
from forecasting.packaging.log import log_baseline, log_forecaster
from forecasting.packaging.state import IntervalState
from forecasting.tracking import plots
from forecasting.tracking.registry import CHAMPION, client, ensure_registered_model
from forecasting.tracking.runs import flatten, sigterm_as_interrupt, tracked_run
from forecasting.tracking.store import ensure_experiment, use_store
from forecasting.windowing import WindowedData, make_windows
from forecasting.windowing.usable import LeftOut, left_out_frame, partition

log = logging.getLogger(__name__)

FAMILIES = ("lstm", "gru")  # the order is the rule: LSTM first, then GRU


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
    starting_weights: str = ""  # what the untrained network forecasts, when training kept it
    start: StartingPoint | None = None  # warm from a registered version, or cold


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
    # The best baseline's backtest on the left-out series: mean metrics over those that have them.
    left_out_summary: dict[str, float] = field(default_factory=dict)
    promotion: Promotion | None = None  # what happened to the candidate in the registry
    candidate_version: str | None = None
    retrain: bool = False  # a retrain: each family started as ``families[f].start`` says

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
    excluded: SeriesData | None = None  # the left-out series themselves (None: none)


def prepare(cfg: PipelineConfig) -> Prepared:
    """Load, validate and window the data; choose what is ``auto``; set aside series too short
    to train on. Bad input fails here, before any run starts."""
    d = cfg.data
    columns = Columns(
        d.id_col, d.time_col, d.target, tuple(d.covariates) if d.covariates is not None else None
    )
    data = load_series(d.path, columns, freq=d.freq, fill=d.fill, **d.read_options())
    period = cfg.rule.seasonal_period or seasonal_period(data.freq)
    lengths = data.frame.groupby(ID, sort=False).size()
    cfg, choices = resolve(cfg, lengths, fixed_step(data.freq), period)
    usable, left_out = partition(data, cfg.windowing, strict=d.strict, bound=d, period=period)
    windowed = make_windows(usable, cfg.windowing)
    for choice in choices:
        log.info("chose %s", choice)
    excluded = None
    if left_out:
        gone = data.frame[ID].isin([x.uid for x in left_out])
        excluded = dataclasses.replace(data, frame=data.frame[gone].reset_index(drop=True))
    return Prepared(cfg, usable, windowed, period, choices, left_out, excluded)


def _train_family(
    family: str,
    cfg: PipelineConfig,
    data: SeriesData,
    windowed: WindowedData,
    period: int,
    experiment_id: str,
    fallback: str,
    left_out: list[LeftOut],
    start: StartingPoint | None = None,
) -> tuple[FamilyResult, keras.Model]:
    spec, budget = cfg.model, cfg.training
    start = start or cold(family, "a comparison trains from scratch")
    if start.warm:  # fine-tuning has its own, small budget
        budget = budget.model_copy(update={"max_epochs": budget.warm_epochs})
    impl = spec.impl_tag(family)
    with tracked_run(experiment_id=experiment_id, run_name=family, nested=True) as run:
        mlflow.set_tags({"model_family": family, "gru_impl": impl, "role": "candidate"})
        mlflow.set_tags(
            {
                "warm_start": start.mode,
                "warm_start.reason": start.reason,
                "warm_start.version": start.version or "",
            }
        )
        mlflow.log_params(flatten("", cfg.model_dump()) | {"model_family": family})
        keras.utils.set_random_seed(
            budget.seed
        )  # the same seed for both families: reproducible runs
        model = build_for_windows(family, spec, windowed, period)
        if start.warm:
            model.set_weights(list(start.weights))
        log.info(
            "training %s (%s parameters, %s)",
            family.upper(),
            f"{model.count_params():,}",
            f"warm {start.reason}, at most {budget.max_epochs} epochs" if start.warm else "cold",
        )

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
        starting = ""
        if result.best_epoch == 0 and start.warm:
            mlflow.set_tag("warm_start.kept", "the registered weights (no epoch improved on them)")
        elif result.best_epoch == 0:  # no epoch beat the untrained network on validation
            starting = untrained_forecast(spec, windowed.spec.lookback, period)
            mlflow.set_tags({"starting_weights": "true", "forecasts_as": starting})
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
        family,
        impl,
        bt,
        result,
        model.count_params(),
        run.info.run_id,
        info.model_uri,
        starting_weights=starting,
        start=start,
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
    table["note"] = [
        f"= {results[k].starting_weights.replace('_', ' ')} (starting weights)"
        if k in results and results[k].starting_weights
        else ""
        for k in table.index
    ]
    return table


def register(
    result: ComparisonResult,
    cfg: PipelineConfig,
    data: SeriesData,
    windowed: WindowedData,
    period: int,
    baselines: dict[str, Backtest],
) -> None:
    """Register both families (and the best baseline when it is the candidate) and settle the
    candidate's alias through the champion guard."""
    c = client(result.tracking_uri)
    name, metric, d = result.model_name, cfg.rule.metric, result.decision
    ensure_registered_model(c, name)
    signature = data_signature(data.ids, data.freq, windowed.spec.horizon)
    common = {
        "comparison_run_id": result.parent_run_id,
        "data_signature": signature,
        "data_source": data.source,
        "horizon": str(windowed.spec.horizon),
        "freq": data.freq,
        "n_series": str(len(data.ids)),
        "metric": metric,
    }

    def add_version(model_uri: str, run_id: str, family: str, score: float, **tags) -> str:
        version = c.create_model_version(
            name,
            model_uri,
            run_id=run_id,
            tags=common
            | {"model_family": family, f"backtest_{metric}": f"{score:.6g}"}
            | {k: v for k, v in tags.items() if v},
            model_id=model_uri.removeprefix("models:/"),
        )
        log.info("registered %s version %s (%s)", name, version.version, family)
        return str(version.version)

    for family, r in result.families.items():
        r.version = add_version(
            r.model_uri,
            r.run_id,
            family,
            r.backtest.summary[metric],
            gru_impl=r.gru_impl,
            beats_best_baseline=str(d.beats_baseline).lower() if family == d.winner else "",
            forecasts_as=r.starting_weights,
            warm_start_from=r.start.version if r.start and r.start.warm else "",
        )
    if d.beats_baseline:
        candidate = result.families[d.winner].backtest
        result.candidate_version = result.families[d.winner].version
    else:
        candidate = baselines[d.baseline]
        own = candidate.intervals  # calibrated on the validation windows, as a network's
        intervals = (
            IntervalState.from_arrays(cfg.intervals.levels, own.floor, own.quantiles, own.quantiles)
            if own is not None
            else None
        )
        info = log_baseline(
            data,
            d.baseline,
            windowed.spec.lookback,
            windowed.spec.horizon,
            period,
            name=d.baseline,
            intervals=intervals,
        )
        result.candidate_version = add_version(
            info.model_uri, result.parent_run_id, d.baseline, candidate.summary[metric]
        )
    result.promotion = settle(
        cfg.rule,
        result.tracking_uri,
        name,
        result.candidate_version,
        candidate,
        data,
        windowed,
        period,
        signature,
    )


def run_comparison(
    cfg: PipelineConfig, retrain: bool = False, tags: dict[str, str] | None = None
) -> ComparisonResult:
    """Run the whole LSTM-then-GRU comparison described by ``cfg``.

    ``retrain``: start each family as ``training.warm_start`` says (see
    :mod:`forecasting.experiments.warm_start`); otherwise both train from scratch. ``tags`` go on
    the comparison's run (a scheduled retrain names its schedule and slot).

    Raises:
        InputError: bad data or config, or ``warm_start: latest`` that cannot start warm; nothing
            is written to the store then.
    """
    prepared = prepare(cfg)  # bad input stops here, before anything is written to the store
    cfg, data, windowed, period = prepared.cfg, prepared.data, prepared.windowed, prepared.period
    uri = use_store(cfg.mlflow.tracking_uri)
    starts = (
        plan_starts(cfg, windowed, period, uri, FAMILIES)  # a refused warm start stops here too
        if retrain
        else {f: cold(f, "a comparison trains from scratch") for f in FAMILIES}
    )
    experiment_id = ensure_experiment(cfg.mlflow.experiment, uri)
    rule = cfg.rule
    with (
        sigterm_as_interrupt(),
        tracked_run(
            experiment_id=experiment_id,
            run_name=describe.run_name(cfg.data.path, windowed.spec.horizon),
        ) as parent,
    ):
        mlflow.set_tags({"pipeline": cfg.name, "role": "comparison", "data.source": data.source})
        if retrain:
            mlflow.set_tags(
                {"retrain": "true"}
                | {f"warm_start.{f}": starts[f].describe()[:5000] for f in FAMILIES}
            )
        if tags:
            mlflow.set_tags(tags)
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
        left_table, left_summary = _backtest_left_out(prepared, best_baseline)
        families: dict[str, FamilyResult] = {}
        for family in FAMILIES:
            families[family], _ = _train_family(
                family,
                cfg,
                data,
                windowed,
                period,
                experiment_id,
                best_baseline,
                prepared.left_out,
                starts[family],
            )
        lstm, gru = families["lstm"].backtest, families["gru"].backtest
        decision = decide(
            rule,
            lstm.summary[metric],
            gru.summary[metric],
            baselines[best_baseline].summary[metric],
            lstm.window_errors,
            gru.window_errors,
            windowed.spec.horizon,
            best_baseline,
            baselines[best_baseline].window_errors,
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
            left_summary,
            retrain=retrain,
        )
        mlflow.set_tags(
            {
                "decision.winner": decision.winner,
                "decision.reason": decision.reason,
                "decision.best_baseline": decision.baseline,
                "decision.beats_best_baseline": str(decision.beats_baseline).lower(),
                "decision.candidate": decision.candidate,
            }
        )
        mlflow.log_metrics(
            {f"{name}_{metric}": v for name, v in table[metric].items() if np.isfinite(v)}
            | {"decision_p_value": decision.p_value, "decision_lstm_gain": decision.lstm_gain}
            | {
                k: v
                for k, v in (
                    ("decision_baseline_gain", decision.baseline_gain),
                    ("decision_baseline_p_value", decision.baseline_p_value),
                )
                if np.isfinite(v)
            }
        )
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            table.rename_axis("model").to_csv(tmp / "comparison.csv")
            (tmp / "comparison.md").write_text(
                format_table(table) + "\n\n" + decision.reason + "\n"
            )
            (tmp / "decision.json").write_text(json.dumps(decision.to_dict(), indent=1))
            if prepared.left_out:
                left_out_frame(prepared.left_out, best_baseline).join(
                    left_table.add_prefix("backtest_"), on="series"
                ).to_csv(tmp / "left_out_series.csv", index=False)
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
            labels = {
                "lstm": "LSTM",
                "gru": "GRU",
                "seasonal_naive": "seasonal naive",
                "naive": "naive",
            }
            errors = {"lstm": lstm, "gru": gru} | baselines
            bands = plots.backtest_mase(
                tmp / describe.MASE_CHART,
                {labels[k]: errors[k].window_errors for k in labels},
                windowed.splits["test"].series,
                winner=decision.winner.upper(),
            )
            bands.rename(index={v: k for k, v in labels.items()}).rename_axis("model").to_csv(
                tmp / plots.BACKTEST_BANDS
            )
            mlflow.log_artifacts(str(tmp))
        register(result, cfg, data, windowed, period, baselines)
        promotion = result.promotion
        mlflow.set_tags(
            {
                "registered_model": f"{cfg.mlflow.model_name}@{CHAMPION}",
                "champion.promoted": str(promotion.promoted).lower(),
                "champion.version": promotion.version if promotion.promoted else promotion.previous,
                "champion.reason": promotion.reason[:5000],
                describe.NOTE_TAG: describe.description(
                    decision,
                    format_table(table),
                    metric=metric,
                    data_line=f"{describe.data_label(cfg.data.path)}, {len(data.ids)} series "
                    f"at frequency {data.freq}, horizon {windowed.spec.horizon}, "
                    f"{len(windowed.splits['test'])} backtest windows",
                    registry=describe.registry_lines(result),
                ),
            }
        )
    return result


def _backtest_left_out(prepared: Prepared, baseline: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """The best baseline's backtest on the left-out series (the forecaster that serves them),
    logged as ``left_out_<metric>`` metrics of the parent run."""
    if not prepared.left_out:
        return pd.DataFrame(), {}
    spec = prepared.windowed.spec
    frame = prepared.excluded.frame
    table, summary = left_out_backtest(
        {str(uid): part[TARGET].to_numpy() for uid, part in frame.groupby(ID, sort=False)},
        baseline,
        spec.horizon,
        prepared.period,
        spec.n_folds,
    )
    summary = summary | {"series_backtested": float((table["origins"] > 0).sum())}
    mlflow.log_metrics({f"left_out_{k}": v for k, v in summary.items() if np.isfinite(v)})
    return table, summary


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
        "note",
    ]
    shown = shown[[c for c in cols if c in shown.columns]]
    header = "| model | " + " | ".join(shown.columns) + " |"
    lines = [header, "|" + "---|" * (len(shown.columns) + 1)]
    for name, row in shown.iterrows():
        cells = []
        for col, v in row.items():
            if isinstance(v, str):
                cells.append(v)
            elif pd.isna(v):
                cells.append("–")
            elif col == "params":
                cells.append(f"{int(v):,}")
            elif col == "skill_vs_snaive":
                cells.append(f"{v:+.1%}")
            else:
                cells.append(f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
