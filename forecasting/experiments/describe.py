"""How a comparison reads in the MLflow UI: the parent run's name and its description.

The name tells comparisons apart in the experiment's run list (data, horizon, start time);
the description (MLflow's ``mlflow.note.content`` tag, shown as Markdown on the run page)
states the decision and holds the comparison table, so a user sees the outcome without
opening an artifact.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import PurePath

from forecasting.evaluation.decision import Decision

log = logging.getLogger(__name__)

NOTE_TAG = "mlflow.note.content"  # the run's description in the MLflow UI
MASE_CHART = "backtest_mase.png"  # the parent run's first chart (artifacts list it first)

_BUNDLED = "bundled:"


def data_label(path: str) -> str:
    """A data source as a user recognises it: the file's name, or the bundled set's name."""
    text = str(path)
    if text.startswith(_BUNDLED):
        return text.removeprefix(_BUNDLED)
    return PurePath(text).name or text


def run_name(data_path: str, horizon: int, started: datetime | None = None) -> str:
    """``sales.csv · H=12 · 2026-06-01 14:03``: what, how far ahead, when (local time); short,
    so the UI's run list shows the data and the horizon before it cuts the name."""
    started = started or datetime.now()
    return f"{data_label(data_path)} · H={horizon} · {started:%Y-%m-%d %H:%M}"


def description(
    decision: Decision,
    table_markdown: str,
    *,
    metric: str,
    data_line: str,
    model_name: str,
) -> str:
    """The parent run's description: decision first, then the data, the table and the chart."""
    m = metric.upper()
    lines = [
        f"**Decision: {decision.winner.upper()}**, registered as `{model_name}@champion`",
        "",
        decision.reason,
        "",
    ]
    if not decision.beats_baseline:
        lines += [f"**The winner does not beat seasonal naive on {m}.**", ""]
    lines += [
        f"Data: {data_line}",
        "",
        f"Backtest, lower is better ({m} decides):",
        "",
        table_markdown,
        "",
        f"Chart: `{MASE_CHART}` under Artifacts (backtest MASE per model and baseline, 95% "
        "bootstrap intervals). Each family's training run: child runs `lstm` and `gru`.",
    ]
    return "\n".join(lines)
