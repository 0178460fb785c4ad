"""What the user reads at the end of a comparison: the table, the decision, where to look."""

from __future__ import annotations

from forecasting.experiments.compare import ComparisonResult, format_table
from forecasting.tracking.registry import CHALLENGER, CHAMPION
from forecasting.tracking.store import ui_links

UI_URL = "http://127.0.0.1:5000"


def summary(result: ComparisonResult) -> str:
    d = result.decision
    lines = [""]
    if result.choices:
        lines.append("Chosen from the data (set them to override):")
        lines += [f"  {c}" for c in result.choices]
        lines.append("")
    if result.left_out:
        shown = ", ".join(x.uid for x in result.left_out[:5]) + (
            " …" if len(result.left_out) > 5 else ""
        )
        lines += [
            f"Left out of training: {len(result.left_out)} series too short for the lookback ({shown}); "
            f"{result.best_baseline.replace('_', ' ')} forecasts them.",
            "",
        ]
    lines += [
        format_table(result.table),
        "",
        f"Decision: {d.winner.upper()} — {d.reason}",
        *registry_lines(result),
        "",
        "Compare the runs in the MLflow UI:  forecast ui   (then open)",
    ]
    lines += [f"  {link}" for link in ui_links(UI_URL, result.experiment_id, result.run_ids)]
    lines.append(f"Tracking store: {result.tracking_uri}")
    return "\n".join(lines)


def registry_lines(result: ComparisonResult) -> list[str]:
    """Which version serves now, and why; how to promote a candidate that did not replace it."""
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
