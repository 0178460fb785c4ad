"""The LSTM-vs-GRU rule on constructed scores and per-window errors, and the paired tests
it relies on, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecasting.errors import ConfigError
from forecasting.evaluation.decision import Rule, decide
from forecasting.evaluation.significance import diebold_mariano, paired_p_value, wilcoxon

N_WINDOWS = 30
TESTS = ("wilcoxon", "diebold_mariano")


def gru_errors() -> np.ndarray:
    """[N] per-window scaled errors of the GRU: positive and varied."""
    return 1.0 + 0.3 * np.sin(np.arange(N_WINDOWS))


def no_systematic_difference(errors: np.ndarray) -> np.ndarray:
    """Errors that differ window by window but with alternating signs of growing size."""
    i = np.arange(len(errors))
    return errors + np.where(i % 2 == 0, 1.0, -1.0) * 0.01 * (i + 1)


def _assert_reason_has_scores(reason: str, lstm: float, gru: float) -> None:
    assert f"LSTM MASE {lstm:.3f}" in reason, reason
    assert f"GRU MASE {gru:.3f}" in reason, reason


@pytest.mark.parametrize("test", TESTS)
def test_gru_kept_when_lstm_better_by_less_than_tolerance(test):
    gru = gru_errors()
    lstm = 0.97 * gru  # better on every window: significant, but only by 3%
    d = decide(Rule(tolerance=0.05, test=test), 0.97, 1.00, 1.50, lstm, gru, horizon=1)
    assert d.p_value < 0.05, "significance alone must not make the LSTM win"
    assert d.winner == "gru"
    assert d.lstm_gain == pytest.approx(0.03)
    assert "not better by more than the 5% tolerance" in d.reason
    assert d.beats_baseline is True
    _assert_reason_has_scores(d.reason, 0.97, 1.00)


def test_gru_kept_between_lstm_and_baseline_proposes_the_baseline():
    """The LSTM beats seasonal naive, the GRU does not, and the LSTM is not considerably better:
    the rule keeps the GRU, which loses to the baseline, so the baseline is what should serve."""
    gru = gru_errors()
    d = decide(Rule(tolerance=0.05), 0.97, 1.00, 0.98, 0.97 * gru, gru, horizon=1)
    assert d.winner == "gru"
    assert d.beats_baseline is False
    assert d.candidate == "seasonal_naive"
    assert "It does NOT beat the best baseline, seasonal naive (MASE 0.980)" in d.reason
    assert "the LSTM's is 3.0% lower" in d.reason


@pytest.mark.parametrize("test", TESTS)
def test_gru_kept_when_lstm_considerably_but_not_significantly_better(test):
    gru = gru_errors()
    lstm = no_systematic_difference(gru)
    d = decide(Rule(tolerance=0.05, alpha=0.05, test=test), 0.80, 1.00, 1.50, lstm, gru, horizon=1)
    assert d.p_value > 0.5
    assert d.winner == "gru"
    assert d.lstm_gain == pytest.approx(0.20)
    assert "not significant at p<0.05" in d.reason
    assert f"p={d.p_value:.3g}" in d.reason
    _assert_reason_has_scores(d.reason, 0.80, 1.00)


@pytest.mark.parametrize("test", TESTS)
def test_lstm_kept_when_considerably_and_significantly_better(test):
    gru = gru_errors()
    lstm = 0.8 * gru
    d = decide(Rule(tolerance=0.05, alpha=0.05, test=test), 0.80, 1.00, 1.50, lstm, gru, horizon=1)
    assert d.p_value < 1e-3
    assert d.winner == "lstm"
    assert d.beats_baseline is True
    assert d.reason.startswith("LSTM kept")
    _assert_reason_has_scores(d.reason, 0.80, 1.00)
    assert "the LSTM's is 20.0% lower" in d.reason


@pytest.mark.parametrize(
    ("lstm_score", "gru_score", "winner"),
    [(0.80, 1.00, "lstm"), (1.00, 0.90, "gru")],
)
def test_baseline_not_beaten_proposes_the_baseline_and_says_so(lstm_score, gru_score, winner):
    gru = gru_errors()
    lstm = gru * lstm_score / gru_score
    d = decide(Rule(), lstm_score, gru_score, 0.70, lstm, gru, horizon=1)
    assert d.winner == winner
    assert d.beats_baseline is False
    assert d.candidate == "seasonal_naive"
    assert "does NOT beat the best baseline, seasonal naive (MASE 0.700)" in d.reason
    assert "proposes seasonal naive to serve" in d.reason
    _assert_reason_has_scores(d.reason, lstm_score, gru_score)


@pytest.mark.parametrize("test", TESTS)
def test_the_kept_rnn_must_beat_the_best_baseline_considerably_and_significantly(test):
    """With the baseline's window errors the same paired rule applies: 3% better on every window
    is significant but inside the tolerance; 20% better with no systematic difference is not
    significant; 20% better on every window beats it."""
    gru = gru_errors()
    rule = Rule(tolerance=0.05, test=test)

    def against(baseline_errors, baseline_score):
        return decide(rule, 1.2, 1.0, baseline_score, 1.2 * gru, gru, 1, "naive", baseline_errors)

    close = against(gru / 0.97, 1.0 / 0.97)
    assert not close.beats_baseline and close.candidate == "naive"
    assert close.baseline_gain == pytest.approx(0.03)
    noisy = against(no_systematic_difference(gru), 1.25)  # scores apart, windows alike
    assert not noisy.beats_baseline and noisy.baseline_p_value > 0.05
    clear = against(gru / 0.8, 1.25)
    assert clear.beats_baseline and clear.candidate == "gru"
    assert clear.baseline_gain == pytest.approx(0.2)
    assert "It beats the best baseline, naive: GRU MASE is 20.0% lower than naive's" in clear.reason


def test_lstm_wins_on_the_windows_where_errors_are_defined(caplog):
    """A series with an undefined MASE scale (constant training part) makes its windows' scaled
    errors NaN; the paired test must use the other windows, not turn into p=nan."""
    gru = np.concatenate([gru_errors(), np.full(6, np.nan)])
    lstm = 0.8 * gru
    for test in TESTS:
        d = decide(Rule(test=test), 0.80, 1.00, 1.50, lstm, gru, horizon=1)
        assert np.isfinite(d.p_value) and d.p_value < 1e-3, test
        assert d.winner == "lstm", test
    assert "leaving out 6 of 36 windows" in caplog.text


def test_undefined_score_is_an_error_not_a_silent_choice():
    gru = gru_errors()
    with pytest.raises(ValueError, match="LSTM MASE is undefined"):
        decide(Rule(), float("nan"), 1.0, 1.5, gru, gru)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"metric": "mape"},
            "rule.metric: Input should be 'mae', 'rmse', 'smape' or 'mase' (received 'mape')",
        ),
        (
            {"test": "t-test"},
            "rule.test: Input should be 'wilcoxon' or 'diebold_mariano' (received 't-test')",
        ),
        ({"tolerance": 1.5}, "rule.tolerance: Input should be less than 1 (received 1.5)"),
        (
            {"tolerance": -0.1},
            "rule.tolerance: Input should be greater than or equal to 0 (received -0.1)",
        ),
        ({"alpha": 0.0}, "rule.alpha: Input should be greater than 0 (received 0.0)"),
        (
            {"seasonal_period": 0},
            "rule.seasonal_period: Input should be greater than 0 (received 0)",
        ),
    ],
)
def test_invalid_rule_is_a_config_error(kwargs, message):
    with pytest.raises(ConfigError) as err:
        Rule(**kwargs)
    assert str(err.value) == message


def test_rule_takes_keywords_only_and_is_frozen():
    with pytest.raises(TypeError):
        Rule("mase")
    rule = Rule()
    with pytest.raises(ValueError, match="frozen"):
        rule.tolerance = 0.5


# --- paired tests --------------------------------------------------------------------------


@pytest.mark.parametrize("test", TESTS)
def test_identical_errors_give_p_one(test):
    e = gru_errors()
    assert paired_p_value(test, e, e.copy(), horizon=3) == 1.0


@pytest.mark.parametrize("test", TESTS)
def test_clearly_different_errors_give_small_symmetric_p(test):
    rng = np.random.default_rng(0)
    b = rng.uniform(0.5, 1.5, 60)
    a = b + 0.5 + rng.normal(0.0, 0.05, 60)
    p = paired_p_value(test, a, b, horizon=2)
    assert 0.0 <= p < 1e-6
    assert paired_p_value(test, b, a, horizon=2) == pytest.approx(p)


def test_wilcoxon_exact_value_by_hand():
    # Six differences, all positive, no ties: the exact two-sided p is 2 / 2**6.
    b = np.zeros(6)
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert wilcoxon(a, b) == pytest.approx(2 / 64)


def test_diebold_mariano_by_hand():
    # d = a - b = [1, 2, 4, 3, 5], h = 2: mean 3, deviations [-2, -1, 1, 0, 2];
    # gamma0 = 10/5 = 2, gamma1 = (2 - 1 + 0 + 0)/5 = 0.2, var = 2 + 2 * 0.2 = 2.4;
    # DM = 3 / sqrt(2.4/5) and the HLN factor sqrt((5 + 1 - 4 + 2/5)/5) = sqrt(0.48),
    # so the corrected statistic is exactly 3 and p = 2 * P(t_4 > 3) ~ 0.0399.
    d = np.array([1.0, 2.0, 4.0, 3.0, 5.0])
    p = diebold_mariano(d, np.zeros(5), horizon=2)
    assert p == pytest.approx(2 * stats.t.sf(3.0, df=4), rel=1e-12)
    assert p == pytest.approx(0.0399, abs=1e-4)


def test_diebold_mariano_one_step_is_the_paired_t_test():
    # With h = 1 there are no autocovariance terms and the HLN factor turns the
    # population variance into the sample variance: DM is the one-sample t-test.
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, 25), rng.normal(1.2, 1.0, 25)
    assert diebold_mariano(a, b, horizon=1) == pytest.approx(
        stats.ttest_1samp(a - b, 0.0).pvalue, rel=1e-10
    )


def test_unknown_paired_test_is_rejected():
    with pytest.raises(ValueError, match="unknown paired test"):
        paired_p_value("sign", np.ones(3), np.zeros(3))


@settings(deadline=None)
@given(
    lstm_score=st.floats(0.1, 3.0),
    gru_score=st.floats(0.1, 3.0),
    tolerance=st.sampled_from([0.0, 0.05, 0.2]),
    shift=st.floats(-0.3, 0.3),
    seed=st.integers(0, 2**16),
)
def test_rule_property(lstm_score, gru_score, tolerance, shift, seed):
    """Against a baseline both beat: the LSTM wins exactly when it is better by more than the
    tolerance and significantly so, by a Wilcoxon p-value computed here with SciPy, not taken
    from the rule; the reason always names both scores and that p-value."""
    gru = gru_errors()
    # Per-window differences of one sign or both, from clearly significant to clearly not.
    lstm = gru + shift + np.random.default_rng(seed).normal(0.0, 0.1, N_WINDOWS)
    expected_p = stats.wilcoxon(lstm - gru).pvalue  # two-sided signed-rank test, exact for n = 30
    d = decide(Rule(tolerance=tolerance), lstm_score, gru_score, 10.0, lstm, gru, horizon=1)
    gain = (gru_score - lstm_score) / gru_score
    assert d.p_value == pytest.approx(expected_p, rel=1e-9)
    assert d.winner == ("lstm" if gain > tolerance and expected_p < 0.05 else "gru")
    assert d.beats_baseline is True
    _assert_reason_has_scores(d.reason, lstm_score, gru_score)
    assert f"p={expected_p:.3g}" in d.reason
