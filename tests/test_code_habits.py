"""Habits ARCHITECTURE.md states for every module of the package, checked on the source.

- a module's logger is ``log = logging.getLogger(__name__)``, so ``-v`` and logging filters
  address every module the same way (``forecasting.<package>.<module>``);
- importing the package never chooses a matplotlib backend: figures are
  ``matplotlib.figure.Figure`` objects saved as PNG, never pyplot's, so a notebook that
  imports the product keeps its inline plots.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forecasting"
SOURCES = sorted(PACKAGE.rglob("*.py"))
IDS = [str(p.relative_to(PACKAGE)) for p in SOURCES]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _is_get_logger(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "getLogger"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "logging"
    )


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_module_logger_is_log_named_after_the_module(path):
    for node in _tree(path).body:  # module level only: functions may configure other loggers
        if isinstance(node, ast.Assign | ast.AnnAssign) and _is_get_logger(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            assert [ast.unparse(t) for t in targets] == ["log"], (
                f"line {node.lineno}: call it `log`"
            )
            assert ast.unparse(node.value) == "logging.getLogger(__name__)", f"line {node.lineno}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_no_matplotlib_backend_is_chosen_and_no_pyplot_is_used(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call):
            names = [ast.unparse(node.func)]
        else:
            continue
        for name in names:
            assert name != "matplotlib.use", f"line {node.lineno}: leave the backend to the caller"
            assert "pyplot" not in name, f"line {node.lineno}: draw on a matplotlib.figure.Figure"


def test_the_checks_see_the_modules_they_are_about():
    """The two checks above read real modules: the loggers and the plotting code exist."""
    loggers = [p for p in SOURCES if any(_is_get_logger(n) for n in ast.walk(_tree(p)))]
    assert len(loggers) > 20
    figures = [p for p in SOURCES if "matplotlib.figure" in p.read_text()]
    assert {p.name for p in figures} >= {"plots.py", "plotting.py"}
