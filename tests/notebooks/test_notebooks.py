"""The tutorial notebooks: committed clean, in sync with their sources, and running top to bottom.

Each notebook is written as a plain Python source in jupytext's percent format
(``notebooks/NN_name.py``); ``make notebooks`` writes the ``.ipynb`` next to it.

Execution uses nbclient with a kernel spec written by the fixture for *this* interpreter
(``sys.executable``, i.e. the project's virtualenv), so a fresh CI machine needs no
``ipykernel install`` by hand and never picks up another Python's ``python3`` kernel. Each
notebook runs with small parameters (one epoch, 45 days of data) and its own empty MLflow
store; notebook 03 therefore also exercises its "no comparison yet: run a tiny one" path.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = (
    "01_gru_with_matrices.ipynb",
    "02_forecasting_quickstart.ipynb",
    "03_gru_vs_lstm_in_mlflow.ipynb",
    "04_vanishing_gradients.ipynb",
)
KERNEL = "python3"
SMALL = {"FORECAST_NB_EPOCHS": "1", "FORECAST_NB_DAYS": "45", "FORECAST_NB_STEPS": "40"}


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_valid_clean_and_uses_the_python3_kernel(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == KERNEL
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert not any("../shared" in c.source or "/work/shared" in c.source for c in nb.cells)


def test_every_notebook_has_one_source_and_every_source_one_notebook():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.py")) == sorted(
        Path(n).with_suffix(".py").name for n in NAMES
    )
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [(cell.cell_type, cell.source, dict(cell.metadata)) for cell in nb.cells]


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_the_cells_of_its_source(name):
    source = jupytext.read(NOTEBOOKS / Path(name).with_suffix(".py"))
    committed = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert _cells(committed) == _cells(source), f"{name} is stale: run make notebooks"
    assert committed.metadata.kernelspec == source.metadata.kernelspec


@pytest.fixture(scope="session")
def kernel_spec_manager(tmp_path_factory):
    """A kernel spec named python3 that starts this interpreter, in a folder of its own."""
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, prefix=str(prefix))
    folder = prefix / "share" / "jupyter" / "kernels"
    argv = json.loads((folder / KERNEL / "kernel.json").read_text())["argv"]
    assert argv[0] == sys.executable  # the venv's python, not whatever "python" is on PATH
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


def _kernel_env(store: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k != "MPLBACKEND"
    }  # let the kernel use inline plots
    env.update(
        SMALL, MLFLOW_TRACKING_URI=store, MLFLOW_REGISTRY_URI=store, TF_CPP_MIN_LOG_LEVEL="2"
    )
    return env


def _outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif "data" in out:
                parts.append(
                    out["data"].get("text/plain", "") + out["data"].get("text/markdown", "")
                )
    return "\n".join(parts)


def _images(nb) -> int:
    return sum(
        "image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", [])
    )


EXPECTED = {  # a few things each notebook must show when it ran properly
    "01_gru_with_matrices.ipynb": [
        "encoded: [3 1 2 0 3 1 2 0]",
        "batch 0: inputs ['Mat', 'thM']",
        "NumPy and GRUCell agree on every H, Z and R.",
        "Carried state = one pass over the whole rows",
        "reset_after=True matches too.",
    ],
    "02_forecasting_quickstart.ipynb": ["| lstm |", "| gru |", "Decision:", "y_hat"],
    "03_gru_vs_lstm_in_mlflow.ipynb": [
        "No finished comparison in this store: running a tiny one first.",
        "/#/experiments/",
        "/runs",
        "/#/compare-runs?runs=",
        "Winner:",
    ],
    "04_vanishing_gradients.ipynb": [
        "SimpleRNN",
        "GRU (chrono gates)",
        "forecaster GRU:",
        "z_mean",
    ],
}
MIN_IMAGES = {
    "01_gru_with_matrices.ipynb": 0,
    "02_forecasting_quickstart.ipynb": 4,
    "03_gru_vs_lstm_in_mlflow.ipynb": 1,
    "04_vanishing_gradients.ipynb": 5,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, kernel_spec_manager, tmp_path):
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"  # a fresh, empty store per notebook
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_spec_manager)
    client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=_kernel_env(store))  # raises CellExecutionError on the first failing cell

    shown = _outputs(nb)
    for text in EXPECTED[name]:
        assert text in shown, f"{name}: expected {text!r} in the outputs"
    assert _images(nb) >= MIN_IMAGES[name]
    assert "Traceback" not in shown
