"""Past comparisons, newest first, read back from the MLflow store (``forecast runs list``).

Every comparison is a parent run tagged ``role=comparison``; what it compared and decided is in
its params (``data.path``, ``windowing.horizon``, ``rule.metric``), tags (``decision.*``) and
metrics (``<forecaster>_<metric>``), as :func:`forecasting.experiments.compare.run_comparison`
logs them.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

import pandas as pd

from forecasting.errors import InputError
from forecasting.experiments.describe import data_label
from forecasting.tracking.store import resolve_uri, sqlite_path

log = logging.getLogger(__name__)

COLUMNS = [
    "started",
    "experiment",
    "data",
    "horizon",
    "winner",
    "metric",
    "winner_score",
    "baseline",
    "baseline_score",
    "beats_baseline",
    "status",
    "run_id",
]
_COMPARISONS = "tags.role = 'comparison'"


def _client(uri: str | None):
    import mlflow

    uri = resolve_uri(uri)
    db = sqlite_path(uri)
    if db is not None and not db.is_file():
        raise InputError(
            f"no MLflow store at {uri}: run a comparison first, or pass --tracking-uri"
        )
    return mlflow.MlflowClient(tracking_uri=uri), uri


def _experiments(client, uri: str, name: str | None) -> dict[str, str]:
    """Experiment id -> name: the one named, or every active experiment of the store."""
    if name is None:
        return {e.experiment_id: e.name for e in client.search_experiments()}
    found = client.get_experiment_by_name(name)
    if found is None or found.lifecycle_stage != "active":
        known = sorted(e.name for e in client.search_experiments())
        raise InputError(
            f"no experiment {name!r} in {uri}"
            + (f"; experiments: {', '.join(known)}" if known else "")
        )
    return {found.experiment_id: found.name}


def _row(run, experiments: dict[str, str]) -> dict:
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    metric = params.get("rule.metric", "mase")
    winner = tags.get("decision.winner", "")
    horizon = params.get("windowing.horizon", "")
    # runs from before the rule compared with the best baseline name seasonal naive
    baseline = tags.get("decision.best_baseline", "seasonal_naive")
    beats = tags.get("decision.beats_best_baseline", tags.get("decision.beats_seasonal_naive"))
    return {
        "started": datetime.fromtimestamp(run.info.start_time / 1000).strftime("%Y-%m-%d %H:%M"),
        "experiment": experiments.get(run.info.experiment_id, run.info.experiment_id),
        "data": data_label(params["data.path"]) if "data.path" in params else "",
        "horizon": int(horizon) if horizon.isdigit() else horizon,
        "winner": winner.upper(),
        "metric": metric,
        "winner_score": metrics.get(f"{winner}_{metric}", math.nan) if winner else math.nan,
        "baseline": baseline,
        "baseline_score": metrics.get(f"{baseline}_{metric}", math.nan),
        "beats_baseline": {"true": "yes", "false": "no"}.get(beats, ""),
        "status": run.info.status,
        "run_id": run.info.run_id,
    }


def past_comparisons(uri: str | None = None, experiment: str | None = None) -> pd.DataFrame:
    """One row per comparison in the store (or in ``experiment``), newest first.

    Raises:
        InputError: no store at a SQLite ``uri``, or no active experiment named ``experiment``.
    """
    client, uri = _client(uri)
    experiments = _experiments(client, uri, experiment)
    runs, token = [], None
    while experiments:
        page = client.search_runs(
            list(experiments),
            filter_string=_COMPARISONS,
            order_by=["attributes.start_time DESC"],
            max_results=1000,
            page_token=token,
        )
        runs += page
        token = page.token
        if not token:
            break
    rows = [_row(run, experiments) for run in runs]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    log.debug("%d comparisons in %s", len(frame), uri)
    return frame


HEADERS = {
    "winner_score": "winner's",
    "baseline": "best baseline",
    "baseline_score": "baseline's",
    "beats_baseline": "beats it",
}
_NUMBERS = ("horizon", "winner_score", "baseline_score")


def format_comparisons(frame: pd.DataFrame) -> str:
    """The comparisons as an aligned text table: text left, numbers right, scores to 3 decimals."""
    cells = {}
    for col in frame.columns:
        values = []
        for v in frame[col]:
            if isinstance(v, float):
                values.append(f"{v:.3f}" if math.isfinite(v) else "–")
            else:
                values.append(str(v) if str(v) else "–")
        cells[col] = [HEADERS.get(col, col), *values]
    widths = {col: max(len(v) for v in values) for col, values in cells.items()}
    lines = []
    for i in range(len(frame) + 1):
        parts = [
            cells[c][i].rjust(widths[c]) if c in _NUMBERS else cells[c][i].ljust(widths[c])
            for c in frame.columns
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
