"""Bad input through `forecast validate`: exit status 2, one line naming file, column and
first offending row or value, no traceback, nothing written."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main

HEADER = "unique_id,ds,y\n"


def hourly(rows: list[tuple[str, int, str]]) -> str:
    """CSV text from (id, hour, value) rows on 2024-01-01."""
    out = HEADER
    for uid, h, value in rows:
        ts = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=h)
        out += f"{uid},{ts:%Y-%m-%d %H:%M},{value}\n"
    return out


def good_rows(uid: str = "a", n: int = 6) -> list[tuple[str, int, str]]:
    return [(uid, h, str(10 + h)) for h in range(n)]


def _parquet_with_inf(path: Path) -> None:
    y = np.arange(6, dtype=float)
    y[4] = np.inf
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=6, freq="h"), "y": y}
    )
    frame.to_parquet(path)


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=5, freq="D"), "y": np.arange(5.0)}
    ).to_parquet(buf)
    return buf.getvalue()


# (case id, file name, content, extra CLI args, fragments the single error line must contain)
CASES = [
    (
        "missing-target-column",
        "sales.csv",
        "unique_id,ds,value\na,2024-01-01 00:00,1\n",
        [],
        ["sales.csv", "missing target column 'y'", "found: unique_id, ds, value"],
    ),
    (
        "missing-renamed-time-column",
        "sales.csv",
        hourly(good_rows()),
        ["--time-col", "timestamp"],
        ["sales.csv", "missing time column 'timestamp'"],
    ),
    (
        "missing-renamed-id-column",
        "sales.csv",
        hourly(good_rows()),
        ["--id-col", "store"],
        ["sales.csv", "missing id column 'store'"],
    ),
    (
        "non-numeric-target",
        "sales.csv",
        hourly([("a", 0, "1.5"), ("a", 1, "2"), ("a", 2, "twelve"), ("a", 3, "oops")]),
        [],
        ["sales.csv", "column 'y'", "non-numeric value 'twelve' at row 3"],
    ),
    (
        "non-numeric-renamed-target",
        "sales.csv",
        "store,when,sales\nx,2024-01-01,1\nx,2024-01-02,12 units\n",
        ["--id-col", "store", "--time-col", "when", "--target", "sales"],
        ["sales.csv", "column 'sales'", "non-numeric value '12 units' at row 2"],
    ),
    (
        "extra-column-named-like-the-target",  # would silently replace the real target
        "sales.csv",
        "store,when,sales,y\nx,2024-01-01,1,-1\nx,2024-01-02,2,-1\n",
        ["--id-col", "store", "--time-col", "when", "--target", "sales"],
        ["sales.csv", "column 'y'", "reserved"],
    ),
    (
        "unparsable-timestamp",
        "sales.csv",
        HEADER
        + "a,2024-01-01 00:00,1\na,2024-01-01 01:00,2\na,2024-13-45 00:00,3\na,yesterday,4\n",
        [],
        ["sales.csv", "column 'ds'", "unparsable timestamp '2024-13-45 00:00' at row 3"],
    ),
    (
        "missing-timestamp",
        "sales.csv",
        HEADER + "a,2024-01-01 00:00,1\na,,2\n",
        [],
        ["sales.csv", "column 'ds'", "missing timestamp at row 2"],
    ),
    (
        "duplicate-id-time",
        "sales.csv",
        hourly(
            [
                ("a", 0, "1"),
                ("b", 0, "5"),
                ("a", 1, "2"),
                ("b", 1, "6"),
                ("b", 0, "7"),
                ("a", 1, "3"),
            ]
        ),
        [],
        [
            "sales.csv",
            "column 'ds'",
            "duplicate (id, time) pair ('b', 2024-01-01 00:00:00) at row 5",
        ],
    ),
    (
        "duplicate-with-ignored-column",  # the ignored-column warning must not add a line
        "sales.csv",
        "unique_id,ds,y,note\na,2024-01-01,1,x\na,2024-01-02,2,y\na,2024-01-02,3,z\n",
        [],
        ["sales.csv", "duplicate (id, time) pair ('a', 2024-01-02 00:00:00) at row 3"],
    ),
    ("empty-file", "sales.csv", "", [], ["sales.csv", "file is empty"]),
    ("header-only", "sales.csv", HEADER, [], ["sales.csv", "header but no data rows"]),
    (
        "series-shorter-than-lookback-plus-horizon",
        "sales.csv",
        hourly(good_rows("a", 10) + good_rows("b", 5)),
        ["--lookback", "4", "--horizon", "3"],
        ["sales.csv", "column 'y'", "series 'b' has 5 points", "lookback + horizon = 7"],
    ),
    (
        "short-series-with-gap",  # the "missing points" log must not add a line
        "sales.csv",
        hourly([("a", 0, "1"), ("a", 1, ""), ("a", 3, "4")]),
        ["--lookback", "4", "--horizon", "3"],
        ["sales.csv", "column 'y'", "series 'a' has 4 points", "lookback + horizon = 7"],
    ),
    (
        "mixed-frequencies",
        "sales.csv",
        hourly(good_rows("b", 4))
        + "a,2024-01-01 00:00,1\na,2024-01-01 01:00,2\na,2024-01-01 02:30,3\na,2024-01-01 03:00,4\n",
        [],
        [
            "sales.csv",
            "column 'ds'",
            "series 'a'",
            "2024-01-01 02:30:00 at row 7",
            "off its h grid",
        ],
    ),
    (
        "mixed-frequencies-first-in-file-order",  # sorted by id, 'a' would come first
        "sales.csv",
        hourly([("b", 0, "1"), ("b", 1, "2"), ("a", 0, "1"), ("a", 1, "2"), ("a", 2, "3")])
        + "b,2024-01-01 01:45,3\na,2024-01-01 02:30,4\n"
        + hourly(good_rows("b", 6)[3:])[len(HEADER) :],
        [],
        ["sales.csv", "series 'b'", "2024-01-01 01:45:00 at row 6", "off its h grid"],
    ),
    (
        "infinite-value",
        "sales.csv",
        hourly([("a", 0, "1"), ("a", 1, "2"), ("a", 2, "-inf"), ("a", 3, "inf")]),
        [],
        ["sales.csv", "column 'y'", "infinite value '-inf' at row 3"],
    ),
    (
        "infinite-covariate",
        "sales.csv",
        "unique_id,ds,y,price\na,2024-01-01,1,2.5\na,2024-01-02,2,inf\n",
        [],
        ["sales.csv", "column 'price'", "infinite value 'inf' at row 2"],
    ),
    (
        "infinite-value-parquet",
        "sales.parquet",
        _parquet_with_inf,
        [],
        ["sales.parquet", "column 'y'", "'inf' at row 5"],
    ),
    (
        "series-without-values",
        "sales.csv",
        hourly(good_rows("a", 3) + [("b", 0, ""), ("b", 1, "")]),
        [],
        ["sales.csv", "column 'y'", "series 'b' has no numeric values", "row 4"],
    ),
    ("file-not-found", "absent.csv", None, [], ["absent.csv", "file not found"]),
    (
        "unsupported-extension",
        "sales.xlsx",
        "unique_id,ds,y\n",
        [],
        ["sales.xlsx", "unsupported file type '.xlsx'"],
    ),
    (
        "corrupt-parquet",
        "sales.parquet",
        b"PAR1 this is not really parquet PAR1",
        [],
        ["sales.parquet", "cannot read PARQUET file"],
    ),
    (
        "truncated-parquet",
        "sales.parquet",
        lambda path: path.write_bytes(_parquet_bytes()[:-20]),
        [],
        ["sales.parquet", "cannot read PARQUET file"],
    ),
]


def _create(path: Path, content) -> None:
    if content is None:
        return
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def listing(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("name", "content", "args", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_line_exit_2(
    tmp_path, monkeypatch, capsys, caplog, name, content, args, fragments
):
    path = tmp_path / name
    _create(path, content)
    monkeypatch.chdir(tmp_path)  # anything written to the working directory would show up
    before = listing(tmp_path)
    caplog.set_level(logging.INFO)

    status = main(["validate", "--data", str(path), *args])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in err
    # Nothing the CLI would print on the way (logs at INFO and above) precedes the error.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("forecasting")] == []
    assert listing(tmp_path) == before


def test_good_file_passes_the_same_checks(tmp_path, monkeypatch, capsys):
    """Control for the cases above: the same kind of file without the defect is accepted."""
    path = tmp_path / "sales.csv"
    path.write_text(hourly(good_rows("a", 10) + good_rows("b", 10)))
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    assert main(["validate", "--data", str(path), "--lookback", "4", "--horizon", "3"]) == 0
    out, err = capsys.readouterr()
    assert "2 series, 20 points at frequency h" in out
    assert err == ""
    assert listing(tmp_path) == before


def _forecast(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "forecasting", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


SUBPROCESS_CASES = ["duplicate-with-ignored-column", "short-series-with-gap", "corrupt-parquet"]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_real_process_exits_2_with_one_line(tmp_path, case):
    """The installed entry point, logging configured for real: still exactly one line."""
    _, name, content, args, fragments = next(c for c in CASES if c[0] == case)
    path = tmp_path / name
    _create(path, content)
    before = listing(tmp_path)

    done = _forecast("validate", "--data", name, *args, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert listing(tmp_path) == before


def test_forecast_script_reports_missing_file(tmp_path):
    script = Path(sys.executable).with_name("forecast")
    if not script.exists():
        pytest.skip("the forecast entry point is not installed in this environment")
    done = subprocess.run(
        [str(script), "validate", "--data", "nowhere.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == "error: nowhere.csv: file not found\n"
    assert list(tmp_path.iterdir()) == []
