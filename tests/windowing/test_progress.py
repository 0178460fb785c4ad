"""Long windowing says how far it is: series and windows done, at most every PROGRESS_SECONDS."""

from __future__ import annotations

import logging

from forecasting.data import load_series
from forecasting.windowing import WindowSpec, dataset, make_windows


def test_windowing_logs_series_and_windows_done(synthetic_panel, caplog, monkeypatch):
    data = load_series(synthetic_panel(3, 200), name="t")
    monkeypatch.setattr(dataset, "PROGRESS_SECONDS", 0.0)  # say it after every series
    with caplog.at_level(logging.INFO, logger="forecasting.windowing.dataset"):
        wd = make_windows(data, WindowSpec(lookback=12, horizon=4))
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("windowing:")]
    assert [m.split(",")[0] for m in progress] == [f"windowing: {i} of 3 series" for i in (1, 2, 3)]
    total = sum(len(w) for w in wd.splits.values())
    assert progress[-1].startswith(f"windowing: 3 of 3 series, {total} windows so far")


def test_a_short_windowing_says_it_once(synthetic_panel, caplog):
    data = load_series(synthetic_panel(3, 200), name="t")
    with caplog.at_level(logging.INFO, logger="forecasting.windowing.dataset"):
        make_windows(data, WindowSpec(lookback=12, horizon=4))
    messages = [r.getMessage() for r in caplog.records]
    assert not any(m.startswith("windowing:") for m in messages)
    assert any(m.startswith("windows (L=12, H=4): train") for m in messages)
