"""The registered champion, loaded the way a user would: in a fresh Python process by its
alias. It must forecast the next H steps of every series, with the input file's column names.
(``mlflow models predict`` on a registered model is compared with ``forecast predict`` in
tests/serving/test_engines.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Runs in a fresh interpreter: load by alias, forecast the whole file and one series alone.
SCRIPT = """
import sys
import mlflow
import pandas as pd

data, model_uri, out, id_col, alone_id, lookback = sys.argv[1:7]
frame = pd.read_csv(data)
model = mlflow.pyfunc.load_model(model_uri)
model.predict(frame).to_json(out + ".all.json", orient="records", date_format="iso")
alone = frame[frame[id_col] == alone_id].tail(int(lookback))
model.predict(alone).to_json(out + ".alone.json", orient="records", date_format="iso")
model.predict(frame, params={"levels": [50]}).to_json(
    out + ".levels.json", orient="records", date_format="iso"
)
"""


def _env(uri: str) -> dict[str, str]:
    return os.environ | {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }


def _run(cmd: list[str], uri: str, cwd: Path, timeout: float = 300) -> None:
    proc = subprocess.run(
        cmd, env=_env(uri), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"


def _read_forecasts(path: Path) -> pd.DataFrame:
    frame = pd.DataFrame(json.loads(path.read_text()))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


@pytest.fixture(scope="module")
def champion_uri(comparison) -> str:
    return f"models:/{comparison.model_name}@champion"


@pytest.fixture(scope="module")
def subprocess_forecasts(comparison, champion_uri, tmp_path_factory):
    """Forecasts of the champion made by a fresh interpreter: (whole file, one series alone)."""
    folder = tmp_path_factory.mktemp("pyfunc")
    script = folder / "load_and_predict.py"
    script.write_text(SCRIPT)
    out = folder / "forecast"
    _run(
        [
            sys.executable,
            str(script),
            str(comparison.data_path),
            champion_uri,
            str(out),
            comparison.columns[0],
            "west",
            str(comparison.lookback),
        ],
        comparison.tracking_uri,
        folder,
    )
    return (
        _read_forecasts(Path(f"{out}.all.json")),
        _read_forecasts(Path(f"{out}.alone.json")),
        _read_forecasts(Path(f"{out}.levels.json")),
    )


def test_fresh_process_forecasts_next_steps_of_every_series(
    comparison, subprocess_forecasts, assert_nested_intervals
):
    forecasts, _, _ = subprocess_forecasts
    id_col, time_col, target_col = comparison.columns
    H = comparison.horizon
    assert list(forecasts.columns) == [
        id_col,
        time_col,
        "y_hat",
        "y_hat_lo_80",
        "y_hat_hi_80",
        "y_hat_lo_95",
        "y_hat_hi_95",
        "forecaster",
    ]
    # The default levels (80 and 95): nested intervals around every forecast.
    assert_nested_intervals(forecasts)
    # every series is long enough, so all come from the champion itself (a network, or the
    # best baseline when no network beat it), none from a fallback
    assert set(forecasts["forecaster"]) == {comparison.result.decision.candidate}
    assert len(forecasts) == len(comparison.lengths) * H
    assert list(pd.unique(forecasts[id_col])) == list(comparison.lengths)

    data = pd.read_csv(comparison.data_path, parse_dates=[time_col])
    for uid, part in data.groupby(id_col):
        got = forecasts[forecasts[id_col] == uid]
        last = part[time_col].max()
        expected = pd.date_range(last + pd.Timedelta(hours=1), periods=H, freq="h")
        assert list(got[time_col]) == list(expected), uid
        # Each series is unscaled with its own scaler: forecasts stay near its own level.
        recent = part[target_col].tail(48)
        y_hat = got["y_hat"].to_numpy()
        assert np.isfinite(y_hat).all()
        margin = recent.max() - recent.min()
        assert recent.min() - margin < y_hat.min() and y_hat.max() < recent.max() + margin, uid


def test_a_series_alone_gets_the_same_forecast(comparison, subprocess_forecasts):
    forecasts, alone, _ = subprocess_forecasts
    id_col, time_col, _ = comparison.columns
    among_others = forecasts[forecasts[id_col] == "west"].reset_index(drop=True)
    assert list(alone[time_col]) == list(among_others[time_col])
    for column in ("y_hat", "y_hat_lo_80", "y_hat_hi_95"):
        np.testing.assert_allclose(alone[column], among_others[column], rtol=1e-6)


def test_the_levels_parameter_selects_the_intervals(subprocess_forecasts):
    forecasts, _, fifty = subprocess_forecasts
    assert [c for c in fifty.columns if c.startswith("y_hat")] == [
        "y_hat",
        "y_hat_lo_50",
        "y_hat_hi_50",
    ]
    np.testing.assert_allclose(fifty["y_hat"], forecasts["y_hat"], rtol=1e-6)
    assert (fifty["y_hat_lo_50"] >= forecasts["y_hat_lo_80"]).all()
    assert (fifty["y_hat_hi_50"] <= forecasts["y_hat_hi_80"]).all()
