"""`forecast schedule history [NAME] [--limit N]`: past runs, newest first, with status, output
or error, duration and MLflow run id, read from the state folder's run history."""

from __future__ import annotations

import re

import mlflow

from forecasting.cli import main
from forecasting.serving.schedule.store import add_schedule

HEADER = re.compile(
    r"^STARTED \(UTC\)\s+SCHEDULE\s+SLOT\s+STATUS\s+DURATION\s+MLFLOW RUN\s+OUTPUT / ERROR$"
)


def _row(line: str) -> list[str]:
    """started (date and time), schedule, slot, status, duration, run id, then output or error."""
    return line.split(None, 7)


def test_history_lists_runs_newest_first(served_model, tmp_path, capsys):
    state = tmp_path / "state"
    broken = tmp_path / "no-target.csv"
    served_model.frame.drop(columns=["y"]).to_csv(broken, index=False)
    for name, data in (("good", served_model.data_csv), ("broken", broken)):
        add_schedule(
            name,
            "0 6 * * *",
            served_model.champion,
            data,
            str(tmp_path / "out" / "{name}-{as_of:%Y%m%d%H%M%S}.csv"),
            tracking_uri=served_model.tracking_uri,
            folder=state,
        )
    assert main(["schedule", "run", "good", "--state-dir", str(state)]) == 0
    assert main(["schedule", "run", "broken", "--state-dir", str(state)]) == 1
    capsys.readouterr()

    assert main(["schedule", "history", "--state-dir", str(state)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert HEADER.match(lines[0]) and len(lines) == 3
    broken_row, good_row = _row(lines[1]), _row(lines[2])  # newest first
    assert broken_row[2:6] == ["broken", broken_row[3], "failed", broken_row[5]]
    assert broken_row[7].startswith(f"{broken}: missing target column 'y'")
    assert good_row[2] == "good" and good_row[4] == "ok"
    assert re.fullmatch(r"\d+s|\d+m\d\ds", good_row[5])
    assert good_row[7].startswith(str(tmp_path / "out" / "good-"))
    client = mlflow.MlflowClient(tracking_uri=served_model.tracking_uri)
    assert client.get_run(good_row[6]).info.status == "FINISHED"
    assert client.get_run(broken_row[6]).info.status == "FAILED"

    assert main(["schedule", "history", "good", "--state-dir", str(state)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and _row(lines[1])[2] == "good"
    assert main(["schedule", "history", "--limit", "1", "--state-dir", str(state)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and _row(lines[1])[2] == "broken"


def test_history_refuses_an_unknown_schedule_and_a_bad_limit(tmp_path, capsys):
    state = tmp_path / "state"
    assert main(["schedule", "history", "--state-dir", str(state)]) == 0
    assert capsys.readouterr().out == f"no runs recorded in {state}\n"
    assert main(["schedule", "history", "nightly", "--state-dir", str(state)]) == 2
    assert capsys.readouterr().err == (
        f"error: no schedule named 'nightly' in {state} (schedules: none)\n"
    )
    assert main(["schedule", "history", "--limit", "0", "--state-dir", str(state)]) == 2
    assert capsys.readouterr().err == "error: --limit must be a positive integer, received: 0\n"
