# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Forecasting quickstart
#
# From the bundled data to a registered forecaster in a few cells:
#
# 1. load and look at the data;
# 2. cut it into (72 hours → next 24 hours) windows;
# 3. train an LSTM, then a GRU, under the same small budget, and let the rule pick one;
# 4. compare forecasts with what actually happened, and forecast the next day with the
#    registered champion.
#
# Everything is tracked in a temporary MLflow store unless `MLFLOW_TRACKING_URI` names one.
# `FORECAST_NB_EPOCHS` sets the training budget.

# %%
import logging
import os
import tempfile
import warnings
from pathlib import Path

from forecasting.quiet import import_tensorflow_quietly

# Quiet start: TensorFlow's native start-up lines, its retracing notices, progress-bar warnings.
import_tensorflow_quietly()
logging.getLogger("tensorflow").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message="IProgress not found")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from forecasting.config import build_config
from forecasting.data import ID, TARGET, TIME, load_series
from forecasting.experiments.compare import format_table, prepare, run_comparison
from forecasting.windowing import WindowSpec, make_windows

# %matplotlib inline

EPOCHS = int(os.environ.get("FORECAST_NB_EPOCHS", "5"))  # training budget per model
DAYS = int(os.environ.get("FORECAST_NB_DAYS", "0"))  # days of data per series; 0 = the whole year
WORK = Path(tempfile.mkdtemp(prefix="forecast-quickstart-"))
STORE = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{WORK / 'mlflow.db'}"
LOOKBACK, HORIZON = 72, 24
print(f"{EPOCHS} epoch(s), MLflow store {STORE}")

# %% [markdown]
# ## 1 · The data
#
# Hourly temperatures (°F) of Seattle and San Francisco through 2010, shipped with the
# `vega_datasets` package. `load_series` validates the file, puts every series on a regular
# hourly grid and fills the gaps (one hour goes missing at the daylight-saving change).

# %%
data = load_series("bundled:city-temps")
if DAYS:  # a shorter history for a quicker run: the last DAYS days of each series
    frame = data.frame.groupby(ID, sort=False).tail(DAYS * 24)
    DATA = str(WORK / "city-temps.csv")
    frame[[ID, TIME, TARGET]].to_csv(DATA, index=False)
    data = load_series(DATA)
else:
    DATA = "bundled:city-temps"
print(data.summary())

# %%
fig, axes = plt.subplots(2, 1, figsize=(11, 5.5))
for uid, part in data.frame.groupby(ID):
    axes[0].plot(part[TIME], part[TARGET], lw=0.6, label=uid)
    week = part.tail(7 * 24)
    axes[1].plot(week[TIME], week[TARGET], lw=1.2, label=uid)
axes[0].set_title("the whole history")
axes[1].set_title("the last week: a strong daily cycle")
for ax in axes:
    ax.set_ylabel("°F")
    ax.legend(loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2 · Windows
#
# A model reads `LOOKBACK = 72` hours and forecasts the next `HORIZON = 24` at once. Each
# series is split by time into training, validation and test parts, and scaled with
# statistics of its training part only; test windows are later used as a rolling-origin
# backtest.

# %%
windowed = make_windows(data, WindowSpec(lookback=LOOKBACK, horizon=HORIZON, n_folds=2))
for name, w in windowed.splits.items():
    print(
        f"{name:>5}: {len(w):6d} windows, past {w.past.shape}, future {w.future.shape}, target {w.target.shape}"
    )
print(
    "features of every past step:",
    ["target (scaled)", *windowed.covariates, *windowed.calendar_names],
)

train = windowed.splits["train"]
row = len(train) // 2
fig, ax = plt.subplots(figsize=(10, 3))
ax.plot(np.arange(-LOOKBACK + 1, 1), train.past[row, :, 0], label="what the model reads (72 h)")
ax.plot(np.arange(1, HORIZON + 1), train.target[row], label="what it must forecast (24 h)")
ax.axvline(0.5, color="0.6", ls="--")
ax.set_xlabel("hours relative to the forecast origin")
ax.set_ylabel("scaled temperature")
ax.set_title(f"one training window of {windowed.ids[train.series[row]]}")
ax.legend()
plt.show()

# %% [markdown]
# ## 3 · LSTM first, then GRU
#
# One pipeline config describes the whole job. The comparison trains both families with the
# same seed and budget, backtests them against seasonal-naive and naive baselines, applies
# the rule (keep the simpler GRU unless the LSTM is considerably *and* significantly better),
# logs everything to MLflow and registers the winner as `quickstart-forecaster@champion`.

# %%
cfg = build_config(
    {
        "name": "quickstart",
        "data": {"path": DATA},
        "windowing": {"lookback": LOOKBACK, "horizon": HORIZON, "n_folds": 2},
        "model": {"units": 16},
        "training": {
            "max_epochs": EPOCHS,
            "patience": 2,
            "batch_size": 256,
            "learning_rate": 0.003,
            "seed": 42,
        },
        "mlflow": {
            "experiment": "quickstart",
            "model_name": "quickstart-forecaster",
            "tracking_uri": STORE,
        },
    },
    "quickstart notebook",
)
result = run_comparison(cfg)

# %%
display(Markdown(format_table(result.table)))
print("Decision:", result.decision.winner.upper(), "-", result.decision.reason)

# %% [markdown]
# ## 4 · Forecasts against actuals
#
# The backtest forecasts of both models on the last test window of each series, next to what
# was observed. The windows are rebuilt from the same config, so rows line up with the run.

# %%
backtest_windows = prepare(cfg).windowed
test = backtest_windows.splits["test"]
history, actual, times = (
    backtest_windows.history(test),
    backtest_windows.actuals(test),
    backtest_windows.target_times(test),
)

fig, axes = plt.subplots(
    len(backtest_windows.series), 1, figsize=(11, 3.2 * len(backtest_windows.series)), squeeze=False
)
for ax, (index, series) in zip(axes[:, 0], enumerate(backtest_windows.series), strict=True):
    row = np.flatnonzero(test.series == index)[-1]
    origin = test.origin[row]
    ax.plot(
        series.times[origin - LOOKBACK + 1 : origin + 1], history[row], color="0.6", label="history"
    )
    ax.plot(times[row], actual[row], color="black", lw=2, label="actual")
    for family in ("lstm", "gru"):
        ax.plot(
            times[row],
            result.families[family].backtest.forecasts[row],
            lw=1.5,
            label=family.upper(),
        )
    ax.set_title(f"{series.uid}: forecast from {series.times[origin]}")
    ax.set_ylabel("°F")
    ax.legend(loc="upper left", ncol=4)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### The next 24 hours from the registered champion
#
# The champion is a self-contained MLflow model: raw history in (with the training file's
# column names), the next 24 hours of every series out.

# %%
import mlflow

champion = mlflow.pyfunc.load_model(f"models:/{cfg.mlflow.model_name}@champion")
recent = data.frame.groupby(ID, sort=False).tail(LOOKBACK)[[ID, TIME, TARGET]]
forecast = champion.predict(recent)
forecast.groupby(ID).head(3)

# %%
fig, ax = plt.subplots(figsize=(11, 3.5))
for uid, part in recent.groupby(ID):
    (line,) = ax.plot(part[TIME], part[TARGET], lw=1.2, label=f"{uid} (last 72 h)")
    ahead = forecast[forecast[ID] == uid]
    ax.plot(
        ahead[TIME], ahead["y_hat"], lw=2, ls="--", color=line.get_color(), label=f"{uid} forecast"
    )
ax.set_ylabel("°F")
ax.legend(ncol=2, fontsize=8)
plt.show()
print(f"Runs, metrics and plots are in {STORE}; notebook 03 reads them back.")
