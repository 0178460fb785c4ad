"""Operational edges of the command line: an unexpected exception is one line naming the file
with its traceback; a reader that goes away (`| head`) ends the command quietly; output
templates accept only {as_of:FORMAT} and {name}."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from forecasting.cli import main


@pytest.fixture
def broken_state(tmp_path):
    """A state folder whose schedules database is not a database (a disk error, a bad copy)."""
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "schedules.sqlite").write_bytes(b"this is not an SQLite database\n" * 8)
    return folder


def test_an_unexpected_exception_is_one_line_and_its_traceback_is_in_the_state_folder(
    broken_state, capsys
):
    assert main(["schedule", "list", "--state-dir", str(broken_state)]) == 1
    out, err = capsys.readouterr()
    (report,) = (broken_state / "crashes").iterdir()
    assert out == ""
    assert err == (
        f"error: unexpected DatabaseError: file is not a database (full traceback in {report}; "
        "-v shows it)\n"
    )
    text = report.read_text()
    assert text.startswith(f"forecast schedule list --state-dir {broken_state}\n")
    assert "Traceback (most recent call last)" in text
    assert text.rstrip().endswith("file is not a database")


def test_verbose_shows_the_traceback_too(broken_state, capsys):
    assert main(["-v", "schedule", "list", "--state-dir", str(broken_state)]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith(
        "error: unexpected DatabaseError: file is not a database"
    )


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """`forecast validate ... | head`: the reader closes the pipe before the summary is written."""
    data = tmp_path / "series.csv"
    times = pd.date_range("2024-01-01", periods=48, freq="h")
    pd.DataFrame({"ds": times, "y": range(48)}).to_csv(data, index=False)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "forecasting", "validate", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    proc.stdout.close()  # gone before the command writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == ""


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("out/{as_of.__class__}.csv", "field not allowed {as_of.__class__}"),
        (
            "out/{as_of.__class__.__init__.__globals__}.csv",
            "field not allowed {as_of.__class__.__init__.__globals__}",
        ),
        ("out/{name[0]}.csv", "field not allowed {name[0]}"),
        ("out/{name!r}.csv", "field not allowed {name!r}"),
        ("out/{name:>12}.csv", "field not allowed {name:>12}"),
        ("out/{as_of:{name}}.csv", "field not allowed {as_of:{name}}"),
        ("out/{0}.csv", "field not allowed {0}"),
        ("out/{when}.csv", "unknown field {when}"),
    ],
)
def test_output_templates_allow_only_as_of_and_name(tmp_path, capsys, template, field):
    state = tmp_path / "state"
    status = main(
        [
            "schedule",
            "add",
            "hourly",
            "--cron",
            "5 * * * *",
            "--model",
            "models:/m@champion",
            "--data",
            str(tmp_path / "latest.csv"),
            "--output",
            template,
            "--state-dir",
            str(state),
        ]
    )
    assert status == 2
    assert capsys.readouterr().err == (
        f"error: --output {template!r}: {field} (use {{as_of:%Y%m%d%H}} or {{name}})\n"
    )
    assert main(["schedule", "list", "--state-dir", str(state)]) == 0
    assert "no schedules in" in capsys.readouterr().out
