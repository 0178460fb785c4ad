"""The product's one atomic writer: a path holds the old complete file or the new one, never a part.

The SIGKILL-mid-write case is in tests/serving/test_output.py (a large forecast file).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting.files import atomic_writer, pid_alive, publish, write_json, write_text


def _temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def test_failure_inside_the_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "report.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b'{"version": 2, "trunc')
        raise RuntimeError("disk on fire")
    assert target.read_text() == '{\n  "version": 1\n}\n'
    assert _temporaries(target) == []


def test_leftovers_of_a_dead_writer_are_removed_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "table.md"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)  # exited and reaped: no such process any more
    assert not pid_alive(dead_pid) and pid_alive(os.getpid())
    dead = tmp_path / f".table.md.{dead_pid}.abc.tmp"
    live = tmp_path / f".table.md.{os.getppid()}.def.tmp"
    dead.write_text("half")
    live.write_text("in progress")
    write_text(target, "| a |\n")
    assert target.read_text() == "| a |\n"
    assert not dead.exists() and live.exists()


def test_publish_moves_every_staged_file_into_place(tmp_path):
    staging, folder = tmp_path / ".staging", tmp_path / "out"
    staging.mkdir()
    folder.mkdir()
    (folder / "b.csv").write_text("old")
    (staging / "a.png").write_bytes(b"png")
    (staging / "b.csv").write_text("new")
    assert publish(staging, folder) == [folder / "a.png", folder / "b.csv"]
    assert (folder / "b.csv").read_text() == "new" and list(staging.iterdir()) == []
