"""What the user reads at the end of a comparison: the table, the decision, where to look."""

from __future__ import annotations

from collections.abc import Iterator

from forecasting.experiments.compare import ComparisonResult, format_table
from forecasting.experiments.describe import registry_lines
from forecasting.tracking.store import run_link, ui_links

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
            f"Left out of training: {len(result.left_out)} series ({why(result.left_out)}: {shown}); "
            f"{result.best_baseline.replace('_', ' ')} forecasts them{left_out_score(result)}.",
            "",
        ]
    lines += [
        format_table(result.table),
        *interval_lines(result.table),
        "",
        f"Decision: {d.winner.upper()} — {d.reason}",
        *registry_lines(result),
        "",
        "Compare the runs in the MLflow UI:  forecast ui   (then open)",
    ]
    lines += [f"  {link}" for link in ui_links(UI_URL, result.experiment_id, result.run_ids)]
    lines.append(
        f"  {run_link(UI_URL, result.experiment_id, result.parent_run_id)}"
        "  (decision, table, backtest_mase.png)"
    )
    lines.append(f"Tracking store: {result.tracking_uri}")
    return "\n".join(lines)


def interval_lines(table) -> Iterator[str]:
    """One line per interval level: each forecaster's test coverage and MSIS."""
    levels = sorted(int(c.removeprefix("coverage_")) for c in table if c.startswith("coverage_"))
    if levels:
        yield ""
    for p in levels:
        cells = ", ".join(
            f"{name} {row[f'coverage_{p}']:.1%} (MSIS {row[f'msis_{p}']:.2f})"
            for name, row in table.iterrows()
        )
        yield f"{p}% intervals cover on the test windows: {cells}"


def left_out_score(result: ComparisonResult) -> str:
    """`` (backtest MASE 1.23 on 4 of 5)``: the baseline's backtest on the left-out series."""
    s = result.left_out_summary
    n = int(s.get("series_backtested", 0))
    if not n:
        return " (too short to backtest)"
    scores = ", ".join(
        f"{m.upper()} {s[m]:.3f}" for m in ("mase", "smape") if m in s and s[m] == s[m]
    )
    return f" (backtest {scores or 'undefined'} on {n} of {len(result.left_out)})"


def why(left_out) -> str:
    """``too short for the lookback``, ``over the fill bound`` or both, with counts when mixed."""
    kinds = {"short": "too short for the lookback", "fill": "over the fill bound"}
    counts = {k: sum(x.kind == k for x in left_out) for k in kinds}
    present = [k for k in kinds if counts[k]]
    if len(present) == 1:
        return kinds[present[0]]
    return ", ".join(f"{counts[k]} {kinds[k]}" for k in present)
