"""The rule: train an LSTM first, then a GRU; keep the simpler, cheaper GRU unless the
LSTM is considerably better — its primary metric lower by more than a tolerance *and*
the difference significant in a paired test over the backtest windows.

"Beats" means that everywhere (:func:`beats`): the chosen RNN must beat the *best* baseline the
same way before it is proposed to serve, and a proposed model must beat the current champion the
same way on the same windows before it replaces it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from forecasting.config import Rule
from forecasting.evaluation.significance import paired_p_value


@dataclass(frozen=True)
class Verdict:
    """Whether a challenger beats an incumbent under the rule, and the evidence."""

    gain: float  # relative: (incumbent - challenger) / incumbent; > 0 when the challenger is better
    p_value: float
    beats: bool  # gain above the tolerance and p below alpha

    def describe(self, challenger: str, incumbent: str, metric: str, rule: Rule) -> str:
        """E.g. ``GRU MASE is 12.0% lower than seasonal naive's (wilcoxon p=0.003)``."""
        direction = "lower" if self.gain >= 0 else "higher"
        return (
            f"{challenger} {metric} is {abs(self.gain):.1%} {direction} than {incumbent}'s "
            f"({rule.test} p={self.p_value:.3g})"
        )


def beats(
    rule: Rule,
    challenger_score: float,
    incumbent_score: float,
    challenger_errors: np.ndarray,
    incumbent_errors: np.ndarray,
    horizon: int = 1,
) -> Verdict:
    """The rule's "considerably better": the challenger's primary metric lower by more than
    ``rule.tolerance`` (relative) *and* significant at ``rule.alpha`` in the paired test over the
    same windows' errors."""
    if not (math.isfinite(challenger_score) and math.isfinite(incumbent_score)):
        return Verdict(float("nan"), float("nan"), False)
    gain = (incumbent_score - challenger_score) / incumbent_score if incumbent_score else 0.0
    p = paired_p_value(rule.test, challenger_errors, incumbent_errors, horizon)
    return Verdict(gain, p, bool(gain > rule.tolerance and p < rule.alpha))


@dataclass(frozen=True)
class Decision:
    winner: str  # the RNN the LSTM-then-GRU rule keeps: "gru" or "lstm"
    reason: str
    lstm_score: float
    gru_score: float
    baseline_score: float  # the best baseline's primary metric
    lstm_gain: float  # relative: (gru - lstm) / gru; > 0 when the LSTM is better
    p_value: float
    beats_baseline: bool  # the winner beats the best baseline under the rule
    baseline: str = "seasonal_naive"  # the best baseline
    baseline_gain: float = float("nan")  # the winner's relative gain over the best baseline
    baseline_p_value: float = float("nan")

    @property
    def candidate(self) -> str:
        """What the comparison proposes to serve: the winner if it beats the best baseline,
        otherwise that baseline."""
        return self.winner if self.beats_baseline else self.baseline

    def to_dict(self) -> dict:
        return asdict(self) | {"candidate": self.candidate}


def decide(
    rule: Rule,
    lstm_score: float,
    gru_score: float,
    baseline_score: float,
    lstm_window_errors: np.ndarray,
    gru_window_errors: np.ndarray,
    horizon: int = 1,
    baseline: str = "seasonal_naive",
    baseline_window_errors: np.ndarray | None = None,
) -> Decision:
    """Apply the rule to aggregated scores (lower is better) and paired per-window errors.

    First the LSTM against the GRU; then the kept RNN against the best ``baseline`` (its score and,
    for the paired test, its window errors). Without the baseline's window errors the RNN only
    needs a lower score (for callers that have no paired errors).
    """
    m = rule.metric.upper()
    for name, value in (("LSTM", lstm_score), ("GRU", gru_score)):
        if not math.isfinite(value):
            raise ValueError(f"{name} {m} is undefined; cannot apply the rule")
    rnn = beats(rule, lstm_score, gru_score, lstm_window_errors, gru_window_errors, horizon)
    gain, p = rnn.gain, rnn.p_value
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
    winner_score = lstm_score if winner == "lstm" else gru_score
    winner_errors = lstm_window_errors if winner == "lstm" else gru_window_errors
    shown = baseline.replace("_", " ")
    if not math.isfinite(baseline_score):
        verdict = Verdict(float("nan"), float("nan"), False)
        reason += (
            f" The {shown} {m} is undefined, so the {winner.upper()} cannot be shown to beat it."
        )
    elif baseline_window_errors is None:
        g = (baseline_score - winner_score) / baseline_score if baseline_score else 0.0
        verdict = Verdict(g, float("nan"), winner_score < baseline_score)
    else:
        verdict = beats(
            rule, winner_score, baseline_score, winner_errors, baseline_window_errors, horizon
        )
    evidence = (
        verdict.describe(winner.upper(), shown, m, rule)
        if math.isfinite(verdict.p_value)
        else f"{winner.upper()} {m} {winner_score:.3f} vs {shown} {baseline_score:.3f}"
    )
    if verdict.beats:
        reason += f" It beats the best baseline, {shown}: {evidence}."
    elif math.isfinite(baseline_score):
        reason += (
            f" It does NOT beat the best baseline, {shown} ({m} {baseline_score:.3f}): {evidence}; "
            f"beating it needs more than the {rule.tolerance:.0%} tolerance at p<{rule.alpha:g}. "
            f"The comparison proposes {shown} to serve."
        )
    return Decision(
        winner=winner,
        reason=reason,
        lstm_score=lstm_score,
        gru_score=gru_score,
        baseline_score=baseline_score,
        lstm_gain=gain,
        p_value=p,
        beats_baseline=verdict.beats,
        baseline=baseline,
        baseline_gain=verdict.gain,
        baseline_p_value=verdict.p_value,
    )
