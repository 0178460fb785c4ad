"""Run `forecast benchmark ...` from the checkout's root, as `make bench` does, and see what it wrote."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Caches Python and the tools keep for themselves; nothing a benchmark writes.
NOT_SOURCE = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def source_tree_state(root: Path = REPO) -> dict[str, tuple[int, int] | None]:
    """Every folder (None) and file ((size, mtime_ns)) under ``root``, caches excluded."""
    state: dict[str, tuple[int, int] | None] = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in NOT_SOURCE]
        rel = os.path.relpath(folder, root)
        state[rel + "/"] = None
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            state[os.path.join(rel, name)] = (st.st_size, st.st_mtime_ns)
    return state


@dataclass
class CheckoutRun:
    status: int
    printed: str
    changed: list[str]  # paths under the checkout created, modified or removed by the run
    uri: str
    run_id: str | None  # the MLflow run the command printed

    def artifact(self, name: str, dst: Path) -> str:
        """The text of artifact ``name`` of the MLflow run the command printed."""
        import mlflow

        assert self.run_id, f"no MLflow run printed:\n{self.printed}"
        path = mlflow.artifacts.download_artifacts(
            run_id=self.run_id, artifact_path=name, dst_path=str(dst), tracking_uri=self.uri
        )
        return Path(path).read_text()


def _run_in_checkout(argv: list[str], store: Path) -> CheckoutRun:
    """``forecast ARGV`` in this process with the checkout as working directory and an MLflow
    store in ``store``; the process-wide MLflow URIs are reset afterwards."""
    import mlflow

    from forecasting.cli import main

    uri = f"sqlite:///{store / 'mlflow.db'}"
    before = source_tree_state()
    printed = io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
            mp.setenv("MLFLOW_TRACKING_URI", uri)
            mp.chdir(REPO)
            status = main(argv)
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    after = source_tree_state()
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p, 0) != after.get(p, 0))
    found = re.search(r"MLflow run (\w+) in experiment 'benchmarks'", printed.getvalue())
    return CheckoutRun(status, printed.getvalue(), changed, uri, found and found.group(1))


@pytest.fixture(scope="session")
def run_in_checkout() -> Callable[[list[str], Path], CheckoutRun]:
    """Factory: ``run_in_checkout(["benchmark", "speed", "--quick"], store_folder)``."""
    return _run_in_checkout
