"""ARCHITECTURE.md's import rules, checked: each package imports only the ones below it.

A change that needs a new arrow updates this table and ARCHITECTURE.md in the same commit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forecasting"

# Which of the product's own modules each top-level module may import. "errors", "exit_status",
# "quiet", "files" and the package root (which only holds the version) are allowed everywhere.
EVERYWHERE = {"errors", "exit_status", "quiet", "files"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "exit_status": set(),
    "quiet": set(),
    "files": set(),
    "config": set(),
    "data": set(),
    "layers": set(),
    "windowing": {"config", "data"},
    "models": {"config", "data", "layers", "windowing"},
    "evaluation": {"config", "models", "windowing"},
    "packaging": {"config", "data", "layers", "models", "windowing"},
    "tracking": {"packaging"},
    "experiments": {"config", "data", "evaluation", "models", "packaging", "tracking", "windowing"},
    "serving": {"config", "data", "packaging", "tracking", "windowing"},
    "diagnostics": {"config", "data", "layers", "models", "packaging", "tracking", "windowing"},
    "monitoring": {"config", "data", "evaluation", "models", "packaging", "tracking", "windowing"},
    "cli": {"*"},
}
# Jobs the scheduler runs that need a comparison (retraining, monitoring) sit above both the
# experiments and serving; the package appears with the first such job.
ALLOWED["jobs"] = set(ALLOWED) - {"cli"}
# Benchmarks sit at the top, under the CLI only: they may import every product layer.
ALLOWED["benchmarks"] = set(ALLOWED) - {"benchmarks", "cli", "jobs"}

# Arrows that must never appear, whatever the table above says (it may be edited for a new
# arrow; these name the reason why not).
NEVER: dict[tuple[str, str], str] = {
    (
        "diagnostics",
        "serving",
    ): "diagnostics reads packaged models through packaging, not through serving",
    ("packaging", "tracking"): "the packaged format sits below the MLflow plumbing",
    ("packaging", "serving"): "the packaged format sits below serving",
    ("packaging", "diagnostics"): "the packaged format sits below diagnostics",
    ("packaging", "experiments"): "the packaged format sits below the experiments",
    (
        "serving",
        "experiments",
    ): "serving scores packaged models; a job that retrains belongs in jobs",
    ("experiments", "serving"): "a comparison never schedules or serves; jobs joins the two",
    ("serving", "jobs"): "jobs sit above serving",
    ("experiments", "jobs"): "jobs sit above the experiments",
    (
        "monitoring",
        "serving",
    ): "monitoring reads forecasts through their lineage (packaging.layout), not through serving",
    ("monitoring", "experiments"): "monitoring reads a comparison's logged results, never runs one",
    ("serving", "monitoring"): "serving writes forecasts; scoring them later is monitoring's",
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


# Every module of the sub-packages, plus the top-level modules in ALLOWED (the package root's
# __init__ and __main__ only hold the version and call the CLI).
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.stem in ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_follow_the_architecture(path):
    owner = _top_level(path)
    assert owner in ALLOWED, (
        f"{owner} is a new top-level module: add it to ARCHITECTURE.md and ALLOWED"
    )
    allowed = ALLOWED[owner]
    if "*" in allowed:
        return
    imported = (
        {m for m in _imported_modules(path) if m != owner and m in ALLOWED} - EVERYWHERE - allowed
    )
    assert not imported, (
        f"{path.relative_to(PACKAGE)} imports {sorted(imported)}; {owner} may import {sorted(allowed)}"
    )


@pytest.mark.parametrize(("owner", "target"), sorted(NEVER))
def test_forbidden_arrows_are_absent(owner, target):
    assert target not in ALLOWED[owner], (
        f"ALLOWED lets {owner} import {target}: {NEVER[owner, target]}"
    )
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in SOURCES
        if _top_level(p) == owner and target in _imported_modules(p)
    ]
    assert not offenders, f"{offenders} import {target}: {NEVER[owner, target]}"


def test_every_package_is_on_the_map():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED)
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    for name in packages:
        assert f"forecasting/{name}/" in text, (
            f"ARCHITECTURE.md does not describe forecasting/{name}/"
        )
