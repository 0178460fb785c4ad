"""Warm against cold retraining on the same data: `forecast benchmark warm-start`.

What a scheduled retrain meets: a model registered some time ago, and data that has grown
since. The benchmark trains the pipeline's comparison on the data without its newest part
(``new_fraction`` of each series: the previous training), then retrains on all of it twice,
from the same registered versions: warm (``training.warm_start: latest``, at most
``training.warm_epochs`` epochs) and cold (from scratch, the full ``training.max_epochs``).
Per family it reports the epochs trained, the training time and the backtest metrics of each
retrain — the same windows, so the accuracy columns compare directly. Everything runs in a
temporary MLflow store; only the report is kept (``forecasting.benchmarks.report.publish``).
"""

from __future__ import annotations

import logging
import platform
import tempfile
import time
from pathlib import Path

from forecasting.benchmarks.report import BenchmarkReport
from forecasting.config import PipelineConfig, build_config
from forecasting.data import ID, TIME
from forecasting.errors import ConfigError
from forecasting.experiments.compare import FAMILIES, ComparisonResult, prepare, run_comparison
from forecasting.packaging.history import user_frame

log = logging.getLogger(__name__)

NAME = "warm_start"
DEFAULT_NEW_FRACTION = 0.1
MODES = ("warm", "cold")


def _variant(cfg: PipelineConfig, path: Path, uri: str, **training) -> PipelineConfig:
    tree = cfg.model_dump(mode="json")
    tree["data"] |= {"path": str(path), "sep": ",", "wide": False, "date_format": None}
    tree["training"] |= training
    tree["mlflow"] |= {"tracking_uri": uri, "experiment": "warm-start-benchmark"}
    return build_config(tree, "benchmark warm-start")


def split_files(cfg: PipelineConfig, folder: Path, new_fraction: float) -> tuple[Path, Path, int]:
    """The pipeline's data as two CSV files in the user's columns: all of it, and all but the
    newest ``new_fraction`` of each series (the data of the previous training); returns both
    and the number of points left out of the older one."""
    if not 0 < new_fraction < 0.5:
        raise ConfigError(f"--new-fraction must be in (0, 0.5), received: {new_fraction}")
    data = prepare(cfg).data
    frame = data.frame
    sizes = frame.groupby(ID, sort=False)[TIME].transform("size")
    rank = frame.groupby(ID, sort=False).cumcount()
    older = frame[rank < (sizes * (1 - new_fraction)).astype(int)]
    full_path, older_path = folder / "all.csv", folder / "older.csv"
    user_frame(data).to_csv(full_path, index=False)
    user_frame(data, older).to_csv(older_path, index=False)
    return full_path, older_path, len(frame) - len(older)


def _rows(mode: str, result: ComparisonResult, seconds: float) -> list[dict]:
    p = result.promotion
    outcome = (
        f"v{p.version} ({result.decision.candidate}) "
        + ("champion" if p.promoted else "challenger")
        + (f", against v{p.previous}" if p.previous else "")
    )
    rows = []
    for family in FAMILIES:
        r = result.families[family]
        rows.append(
            {
                "family": family,
                "start": mode,
                "from_version": r.start.version if r.start and r.start.warm else "",
                "epochs": len(r.training.loss),
                "best_epoch": r.training.best_epoch,
                "train_seconds": r.training.seconds,
                **{k: float(r.backtest.summary[k]) for k in ("mae", "smape", "mase")},
            }
        )
    snaive = result.table.loc["seasonal_naive"]
    rows.append(
        {
            "family": "seasonal_naive",
            "start": mode,
            "from_version": "",
            "epochs": 0,
            "best_epoch": 0,
            "train_seconds": 0.0,
            **{k: float(snaive[k]) for k in ("mae", "smape", "mase")},
            "comparison_seconds": seconds,
            "outcome": outcome,
        }
    )
    for row in rows:
        row.setdefault("comparison_seconds", seconds)
    return rows


def markdown_table(rows: list[dict], cfg: PipelineConfig, new_points: int, source: str) -> str:
    b = cfg.training
    lines = [
        f"# Warm vs cold retraining ({source})",
        "",
        f"Previous training: the pipeline's comparison on all but the newest points "
        f"({new_points} left out); both retrains on all of it, from the versions it registered. "
        f"Warm: `training.warm_start: latest`, at most {b.warm_epochs} epochs; cold: from scratch, "
        f"at most {b.max_epochs} epochs; patience {b.patience} for both. Backtest on the same "
        f"windows.",
        "",
        "| family | start | epochs (best) | train s | MAE | sMAPE | MASE | warm / cold time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by = {(r["family"], r["start"]): r for r in rows}
    for family in FAMILIES:
        cold_s = by[family, "cold"]["train_seconds"]
        for mode in MODES:
            r = by[family, mode]
            ratio = f"{r['train_seconds'] / cold_s:.2f}" if mode == "warm" and cold_s else ""
            start = f"warm from v{r['from_version']}" if r["from_version"] else mode
            lines.append(
                f"| {family.upper()} | {start} | {r['epochs']} ({r['best_epoch']}) | "
                f"{r['train_seconds']:.1f} | {r['mae']:.3f} | {r['smape']:.3f} | "
                f"{r['mase']:.3f} | {ratio} |"
            )
    s = by["seasonal_naive", "cold"]
    lines.append(
        f"| seasonal naive | – | – | – | {s['mae']:.3f} | {s['smape']:.3f} | {s['mase']:.3f} | |"
    )
    whole = {m: by["seasonal_naive", m]["comparison_seconds"] for m in MODES}
    outcome = {m: by["seasonal_naive", m]["outcome"] for m in MODES}
    lines += [
        "",
        f"Candidate through the champion guard: warm {outcome['warm']}; cold {outcome['cold']} "
        "(the cold retrain runs second, so its champion is whatever the warm one left).",
        f"Whole retrain (warm-start planning, both families, backtests, registration, scoring "
        f"the champion): warm {whole['warm']:.1f} s, cold {whole['cold']:.1f} s.",
        f"Machine: {platform.machine()}, {platform.system()} {platform.release()}; "
        "`train s` includes the first epoch's graph tracing (a few seconds); times on a "
        "shared machine vary by some tenths.",
        "",
    ]
    return "\n".join(lines)


def benchmark_warm_start(
    cfg: PipelineConfig, source: str, new_fraction: float = DEFAULT_NEW_FRACTION
) -> BenchmarkReport:
    """Measure warm against cold retraining of ``cfg``'s comparison (see the module)."""
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="forecast-warm-start-benchmark-") as tmp:
        folder = Path(tmp)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        full, older, new_points = split_files(cfg, folder, new_fraction)
        log.info("previous training on %s", older)
        run_comparison(_variant(cfg, older, uri))
        # Warm first: it starts from the previous training's versions, the latest ones now.
        for mode, warm_start in (("warm", "latest"), ("cold", "cold")):
            log.info("%s retrain on %s", mode, full)
            started = time.perf_counter()
            result = run_comparison(_variant(cfg, full, uri, warm_start=warm_start), retrain=True)
            rows += _rows(mode, result, time.perf_counter() - started)
    table = markdown_table(rows, cfg, new_points, source)
    by = {(r["family"], r["start"]): r for r in rows}
    metrics = {
        f"{family}_{mode}_{key}": float(by[family, mode][key])
        for family in FAMILIES
        for mode in MODES
        for key in ("train_seconds", "mase", "epochs")
    }
    return BenchmarkReport(
        name=NAME,
        markdown=table,
        data={"pipeline": source, "new_fraction": new_fraction, "rows": rows},
        params={
            "pipeline": source,
            "new_fraction": new_fraction,
            "warm_epochs": cfg.training.warm_epochs,
            "max_epochs": cfg.training.max_epochs,
        },
        tags={"data": cfg.data.path},
        metrics=metrics,
    )
