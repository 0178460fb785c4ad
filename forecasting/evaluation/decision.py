"""The rule: train an LSTM first, then a GRU; keep the simpler, cheaper GRU unless the
LSTM is considerably better — its primary metric lower by more than a tolerance *and*
the difference significant in a paired test over the backtest windows."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from forecasting.config import Rule
from forecasting.evaluation.significance import paired_p_value


@dataclass(frozen=True)
class Decision:
    winner: str  # "gru" or "lstm"
    reason: str
    lstm_score: float
    gru_score: float
    baseline_score: float
    lstm_gain: float  # relative: (gru - lstm) / gru; > 0 when the LSTM is better
    p_value: float
    beats_baseline: bool  # the winner beats seasonal naive on the primary metric

    def to_dict(self) -> dict:
        return asdict(self)


def decide(
    rule: Rule,
    lstm_score: float,
    gru_score: float,
    baseline_score: float,
    lstm_window_errors: np.ndarray,
    gru_window_errors: np.ndarray,
    horizon: int = 1,
) -> Decision:
    """Apply the rule to aggregated scores (lower is better) and paired per-window errors."""
    m = rule.metric.upper()
    for name, value in (("LSTM", lstm_score), ("GRU", gru_score)):
        if not math.isfinite(value):
            raise ValueError(f"{name} {m} is undefined; cannot apply the rule")
    gain = (gru_score - lstm_score) / gru_score if gru_score else 0.0
    p = paired_p_value(rule.test, lstm_window_errors, gru_window_errors, horizon)
    considerable = gain > rule.tolerance
    significant = p < rule.alpha
    lstm_wins = considerable and significant
    direction = "lower" if gain >= 0 else "higher"
    numbers = (
        f"LSTM {m} {lstm_score:.3f} vs GRU {m} {gru_score:.3f} "
        f"(the LSTM's is {abs(gain):.1%} {direction}, {rule.test} p={p:.3g})"
    )
    if lstm_wins:
        reason = (
            f"LSTM kept: {numbers} is better by more than the {rule.tolerance:.0%} tolerance "
            f"and significant at p<{rule.alpha:g}."
        )
    elif considerable:
        reason = (
            f"GRU kept: {numbers}; the LSTM's gain exceeds the {rule.tolerance:.0%} tolerance "
            f"but is not significant at p<{rule.alpha:g}, so the simpler, cheaper GRU wins."
        )
    else:
        reason = (
            f"GRU kept: {numbers}; the LSTM is not better by more than the "
            f"{rule.tolerance:.0%} tolerance, so the simpler, cheaper GRU wins."
        )
    winner = "lstm" if lstm_wins else "gru"
    base_ok = math.isfinite(baseline_score)
    lstm_beats = base_ok and lstm_score < baseline_score
    gru_beats = base_ok and gru_score < baseline_score
    winner_beats = lstm_beats if winner == "lstm" else gru_beats
    if base_ok and (lstm_beats or gru_beats) and not winner_beats:
        reason += (
            f" Note: the {winner.upper()} does not beat seasonal naive ({m} {baseline_score:.3f}); "
            f"only the {'GRU' if winner == 'lstm' else 'LSTM'} does."
        )
    if base_ok and not (lstm_beats or gru_beats):
        winner = "lstm" if lstm_score < gru_score else "gru"
        reason = (
            f"Neither RNN beats seasonal naive ({m} {baseline_score:.3f}): {numbers}; "
            f"the better RNN ({winner.upper()}) is registered but tagged as not beating the baseline."
        )
    winner_score = lstm_score if winner == "lstm" else gru_score
    return Decision(
        winner=winner,
        reason=reason,
        lstm_score=lstm_score,
        gru_score=gru_score,
        baseline_score=baseline_score,
        lstm_gain=gain,
        p_value=p,
        beats_baseline=bool(base_ok and winner_score < baseline_score),
    )
