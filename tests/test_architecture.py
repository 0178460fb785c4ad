"""ARCHITECTURE.md's import rules, checked: each package imports only the ones below it.

A change that needs a new arrow updates this table and ARCHITECTURE.md in the same commit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forecasting"

# Which of the product's own modules each top-level module may import. "errors", "quiet" and
# the package root (which only holds the version) are allowed everywhere.
EVERYWHERE = {"errors", "quiet"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "quiet": set(),
    "config": set(),
    "data": set(),
    "layers": set(),
    "windowing": {"data"},
    "models": {"data", "layers", "windowing"},
    "evaluation": {"models", "windowing"},
    "tracking": {"data", "layers", "models", "windowing"},
    "experiments": {"config", "data", "evaluation", "models", "tracking", "windowing"},
    "serving": {"data", "tracking", "windowing"},
    "diagnostics": {"data", "layers", "models", "serving", "tracking", "windowing"},
    "benchmark": {"data", "evaluation", "layers", "models", "tracking", "windowing"},
    "cli": {"*"},
}


def _top_level(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "forecasting" and len(parts) > 1:
                found.add(parts[1])
    return found


# Every module of the sub-packages, plus config.py and errors.py (the package root's
# __init__ and __main__ only hold the version and call the CLI).
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.stem in ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_follow_the_architecture(path):
    owner = _top_level(path)
    assert owner in ALLOWED, f"{owner} is a new top-level module: add it to ARCHITECTURE.md and ALLOWED"
    allowed = ALLOWED[owner]
    if "*" in allowed:
        return
    imported = {m for m in _imported_modules(path) if m != owner and m in ALLOWED} - EVERYWHERE - allowed
    assert not imported, f"{path.relative_to(PACKAGE)} imports {sorted(imported)}; {owner} may import {sorted(allowed)}"


def test_every_package_is_on_the_map():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED)
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    for name in packages:
        assert f"forecasting/{name}/" in text, f"ARCHITECTURE.md does not describe forecasting/{name}/"
