"""Retraining: the whole LSTM-then-GRU comparison again, on the current data.

Each family starts as the pipeline's ``training.warm_start`` says
(:mod:`forecasting.experiments.warm_start`: from its own latest registered version, or from
scratch) and the candidate goes through the champion guard
(:mod:`forecasting.experiments.champion`): it becomes ``champion`` only if it beats the current
one on this comparison's backtest windows, else ``challenger``. The comparison's MLflow run
says which and why (tags ``retrain``, ``warm_start.<family>``, ``champion.promoted``,
``champion.reason``); a scheduled retrain also names its schedule and slot there, and hands
the scheduler a :class:`~forecasting.serving.schedule.retrain.RetrainReport` for its history.
``forecast retrain`` runs it; the scheduler runs that command in a child process.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from forecasting.config import PipelineConfig
from forecasting.experiments.compare import FAMILIES, ComparisonResult, run_comparison
from forecasting.serving.schedule.retrain import RetrainReport

log = logging.getLogger(__name__)


def starts_line(result: ComparisonResult) -> str:
    """How each family started, e.g. ``LSTM warm: from version 3; GRU cold: ...``."""
    return "; ".join(
        result.families[f].start.describe()
        for f in FAMILIES
        if f in result.families and result.families[f].start
    )


def outcome_line(result: ComparisonResult) -> str:
    """One line: the candidate version, champion or challenger, and why."""
    p = result.promotion
    family = result.decision.candidate
    role = "is the new champion" if p.promoted else "stays challenger"
    return f"version {p.version} ({family}) {role}: {p.reason}"


def retrain(
    cfg: PipelineConfig,
    schedule: str | None = None,
    scheduled_for: datetime | None = None,
    report: str | Path | None = None,
) -> ComparisonResult:
    """Retrain ``cfg``'s comparison (see the module); ``report``: where to write what happened
    for the scheduler (atomically, once the comparison finished).

    Raises:
        InputError: bad data or config, or ``warm_start: latest`` where a family cannot start
            warm; nothing is trained and no MLflow run is started then.
    """
    tags = {}
    if schedule:
        tags["retrain.schedule"] = schedule
    if scheduled_for is not None:
        tags["retrain.scheduled_for"] = scheduled_for.isoformat()
    result = run_comparison(cfg, retrain=True, tags=tags)
    line = outcome_line(result)
    log.info("retrain: %s", line)
    if report is not None:
        RetrainReport(
            mlflow_run_id=result.parent_run_id,
            version=str(result.promotion.version),
            family=result.decision.candidate,
            promoted=result.promotion.promoted,
            summary=f"{line} [{starts_line(result)}]",
        ).save(report)
    return result
