"""Write a file so that its path holds either the old complete file or the new one, never a part.

The bytes go to a temporary file in the same folder (same file system, so the
rename is atomic), are flushed and fsynced, and only then ``os.replace`` puts the
file at its path; the folder is fsynced too, so the rename survives a power cut.
A process killed mid-write (even ``kill -9``) leaves at most a hidden
``.<name>.<pid>.<random>.tmp`` beside the target; the next write to the same
path removes such leftovers of processes that are gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from forecasting.errors import InputError

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import (single-threaded then): temporary files are created 0600, the final
# file gets the permissions an ordinary open() would have given it.
_FILE_MODE = 0o666 & ~_current_umask()


def output_format(path: str | Path) -> str:
    """``csv`` or ``parquet`` from the file name; anything else is an :class:`InputError`."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: unsupported output type {suffix or '(none)'!r} (use .csv or .parquet)")
    return FORMATS[suffix]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete ``.<name>.<pid>.*.tmp`` files beside ``path`` left by processes that are gone."""
    prefix = f".{path.name}."
    removed = []
    for candidate in path.parent.glob(f"{glob_escape(prefix)}*.tmp"):
        pid_text = candidate.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
            removed.append(candidate)
            log.info("removed %s, left by an interrupted write", candidate)
    return removed


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems do not allow opening a folder
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Binary file handle whose content appears at ``path`` only if the block completes.

    Example:
        >>> with atomic_writer("out/report.json") as fh:
        ...     fh.write(b"{}")
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def write_frame(frame: pd.DataFrame, path: str | Path, chunk_rows: int = 100_000) -> str:
    """Write ``frame`` as CSV or Parquet (by extension) atomically; returns the file's SHA-256.

    No index and nothing time-dependent goes into the file, so the same frame always
    gives the same bytes. CSV is written in chunks, so a large frame is never held
    twice in memory as text.
    """
    fmt = output_format(path)
    with atomic_writer(path) as fh:
        if fmt == "csv":
            for start in range(0, max(len(frame), 1), chunk_rows):
                part = frame.iloc[start:start + chunk_rows]
                text = part.to_csv(index=False, header=start == 0, lineterminator="\n")
                fh.write(text.encode("utf-8"))
        else:
            frame.to_parquet(fh, index=False, engine="pyarrow")
    return sha256_file(path)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as fh:
        fh.write(data)


def write_json(path: str | Path, value) -> None:
    """Pretty JSON with sorted keys and a final newline, written atomically."""
    text = json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"
    write_bytes(path, text.encode("utf-8"))


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
