"""The parent run's name and description, from plain values (no training needed)."""

from __future__ import annotations

from datetime import datetime

from forecasting.evaluation.decision import Decision
from forecasting.experiments.describe import data_label, description, run_name


def test_names_tell_comparisons_apart_by_data_horizon_and_time():
    at = datetime(2026, 6, 1, 14, 3, 59)
    assert run_name("/data/sales.csv", 12, at) == "sales.csv · H=12 · 2026-06-01 14:03"
    assert run_name("bundled:city-temps", 24, at) == "city-temps · H=24 · 2026-06-01 14:03"
    assert data_label("s3://bucket/x/panel.parquet") == "panel.parquet"


def _decision(beats: bool) -> Decision:
    return Decision(
        winner="gru",
        reason="GRU kept: because.",
        lstm_score=1.0,
        gru_score=0.9,
        baseline_score=1.1 if beats else 0.8,
        lstm_gain=-0.1,
        p_value=0.4,
        beats_baseline=beats,
    )


def test_description_leads_with_the_decision_and_flags_a_winner_worse_than_the_baseline():
    table = "| model | mase |\n|---|---|\n| gru | 0.900 |"
    registry = ["Champion: models:/m@champion is now version 2 (GRU): first champion."]
    kept = description(_decision(True), table, metric="mase", data_line="d", registry=registry)
    assert kept.splitlines()[0] == "**Decision: GRU**"
    assert registry[0] in kept
    assert "GRU kept: because." in kept and table in kept
    assert "does not beat" not in kept
    worse = description(_decision(False), table, metric="mase", data_line="d", registry=registry)
    assert "**The GRU does not beat seasonal naive on MASE.**" in worse
