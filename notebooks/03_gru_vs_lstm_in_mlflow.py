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
# # 03 · GRU versus LSTM in MLflow
#
# Every comparison (`forecast run`, `forecast compare`, notebook 02) leaves the same trail in
# MLflow: one **parent run** per comparison, with the comparison table, the decision and its
# reason as tags, and one **child run** per model family (`lstm`, `gru`) with its parameters,
# per-epoch learning curves, backtest metrics, plots and the packaged model.
#
# This notebook reads that trail back from the store named by `MLFLOW_TRACKING_URI` (default:
# the project's `mlruns/`). If the store holds no finished comparison, it first runs a tiny
# one on a few weeks of the bundled data.

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
import mlflow
import pandas as pd
from IPython.display import Markdown, display

from forecasting.config import build_config
from forecasting.data import ID, TARGET, TIME, load_series
from forecasting.experiments.compare import run_comparison
from forecasting.tracking.store import default_uri, ui_links, use_store

# %matplotlib inline


def project_root() -> Path:
    """The repository folder (the one with pipelines/), searched upwards from here."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pipelines").is_dir() and (folder / "forecasting").is_dir():
            return folder
    return here


STORE = os.environ.get("MLFLOW_TRACKING_URI") or default_uri(project_root())
EPOCHS = int(os.environ.get("FORECAST_NB_EPOCHS", "3"))
UI = os.environ.get(
    "FORECAST_NB_UI", "http://127.0.0.1:5000"
)  # where `forecast ui` serves the store
use_store(STORE)
client = mlflow.MlflowClient()
print("MLflow store:", STORE)


# %%
def latest_comparison():
    """The most recent finished parent run of a comparison, or None."""
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string="tags.role = 'comparison' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    return runs[0] if runs else None


parent = latest_comparison()
if parent is None:
    print("No finished comparison in this store: running a tiny one first.")
    days = int(os.environ.get("FORECAST_NB_DAYS", "0")) or 60
    recent = load_series("bundled:city-temps").frame.groupby(ID, sort=False).tail(days * 24)
    csv = Path(tempfile.mkdtemp(prefix="forecast-nb03-")) / "city-temps-recent.csv"
    recent[[ID, TIME, TARGET]].to_csv(csv, index=False)
    run_comparison(
        build_config(
            {
                "name": "tiny-comparison",
                "data": {"path": str(csv)},
                "windowing": {"lookback": 48, "horizon": 24, "n_folds": 2},
                "model": {"units": 8},
                "training": {
                    "max_epochs": EPOCHS,
                    "patience": 2,
                    "batch_size": 128,
                    "learning_rate": 0.003,
                },
                "mlflow": {
                    "experiment": "tiny-comparison",
                    "model_name": "tiny-forecaster",
                    "tracking_uri": STORE,
                },
            },
            "notebook 03",
        )
    )
    parent = latest_comparison()

experiment = client.get_experiment(parent.info.experiment_id)
print(
    f"comparison run {parent.info.run_id} ({parent.info.run_name}) in experiment {experiment.name!r}"
)

# %% [markdown]
# ## The runs
#
# Child runs point at their parent through the tag `mlflow.parentRunId`.

# %%
children = client.search_runs(
    [experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
)
children = {run.data.tags["model_family"]: run for run in children}
overview = pd.DataFrame(
    {
        family: {
            "run id": run.info.run_id,
            "status": run.info.status,
            "parameters": int(run.data.metrics.get("n_params", float("nan"))),
            "epochs": int(run.data.metrics.get("epochs_trained", 0)),
            "backtest MASE": run.data.metrics.get("backtest_mase"),
            "train seconds": run.data.metrics.get("train_seconds"),
        }
        for family, run in sorted(children.items())
    }
).T
display(overview)

# %% [markdown]
# ## The comparison table
#
# The parent run logs `comparison.csv`: backtest errors of both families and of the two
# naive baselines (`skill_vs_snaive` is the MASE improvement over seasonal naive), with
# parameter counts and timings.

# %%
table_path = mlflow.artifacts.download_artifacts(
    run_id=parent.info.run_id, artifact_path="comparison.csv"
)
table = pd.read_csv(table_path, index_col="model")
table.round(3)

# %% [markdown]
# ## Learning curves from the step metrics
#
# Each child logs `train_loss` and `val_loss` once per epoch (the MLflow *step* is the
# epoch). The training keeps the weights of the best validation epoch.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, metric in zip(axes, ("train_loss", "val_loss"), strict=True):
    for family, run in sorted(children.items()):
        history = client.get_metric_history(run.info.run_id, metric)
        steps = [m.step for m in sorted(history, key=lambda m: m.step)]
        values = [m.value for m in sorted(history, key=lambda m: m.step)]
        ax.plot(steps, values, marker="o", label=family.upper())
    ax.set_title(metric)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.legend()
axes[0].set_ylabel("MSE on scaled targets")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The decision
#
# The rule trains the LSTM first and keeps the GRU unless the LSTM is better by more than the
# tolerance *and* the paired test over backtest windows says the difference is significant.
# The kept RNN must then beat the best baseline the same way; the comparison's candidate (that
# RNN, or else the baseline) becomes `champion` only if it beats the current champion too.

# %%
tags = parent.data.tags
display(Markdown(f"**Winner: {tags['decision.winner'].upper()}** — {tags['decision.reason']}"))
print(
    "best baseline:",
    tags.get("decision.best_baseline"),
    "- beaten:",
    tags.get("decision.beats_best_baseline"),
)

registered = tags.get("registered_model")  # NAME@champion
if registered:
    name, alias = registered.split("@")
    version = client.get_model_version_by_alias(name, alias)
    print(
        f"models:/{registered} -> version {version.version}, family {version.tags.get('model_family')}, "
        f"run {version.run_id}"
    )

# %% [markdown]
# ## Finding all this in the MLflow UI
#
# Start the UI on the same store with `forecast ui` (or
# `mlflow ui --backend-store-uri <store>`). Recent MLflow versions open on a **GenAI** view
# (traces, prompts, evaluations), not on the training runs. Go straight to the experiment's
# runs page `/#/experiments/<ID>/runs`, expand the parent run to see its two children, and
# tick both children → **Compare** for the compare-runs page (parameters side by side, and
# the learning curves under *Metrics* with the step as x axis). The links below open those
# pages directly.

# %%
run_ids = [children[f].info.run_id for f in ("lstm", "gru") if f in children]
runs_page, compare_page = ui_links(UI, experiment.experiment_id, run_ids)
print("training runs of the experiment:", runs_page)
print("compare the LSTM and GRU runs: ", compare_page)
print(
    "the parent run:                 ",
    f"{UI}/#/experiments/{experiment.experiment_id}/runs/{parent.info.run_id}",
)
