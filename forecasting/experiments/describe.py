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
from forecasting.tracking.registry import CHALLENGER, CHAMPION

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
    registry: list[str],
) -> str:
    """The parent run's description: decision and what it did to the registry first, then the
    data, the table and the chart."""
    m = metric.upper()
    lines = [f"**Decision: {decision.winner.upper()}**", "", decision.reason, ""]
    if not decision.beats_baseline:
        best = decision.baseline.replace("_", " ")
        lines += [f"**The {decision.winner.upper()} does not beat {best} on {m}.**", ""]
    lines += [*registry, ""]
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


def registry_lines(result) -> list[str]:
    """Which version serves now, and why; how to promote a candidate that did not replace it
    (``result``: a finished ``ComparisonResult``)."""
    p, name = result.promotion, result.model_name
    versions = ", ".join(f"{f.upper()} version {r.version}" for f, r in result.families.items())
    lines = [f"Registered {name}: {versions}"]
    if p is None:
        return lines
    candidate = result.decision.candidate.replace("_", " ")
    shown = candidate.upper() if candidate in ("lstm", "gru") else candidate
    if p.promoted:
        lines.append(
            f"Champion: models:/{name}@{CHAMPION} is now version {p.version} ({shown}): {p.reason}."
        )
    else:
        lines.append(
            f"Champion unchanged: models:/{name}@{CHAMPION} stays version {p.previous}; "
            f"the candidate, version {p.version} ({shown}), is @{CHALLENGER}: it {p.reason}."
        )
    return lines
