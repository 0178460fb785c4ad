"""Files that appear whole or not at all: a path holds the old complete file or the new one, never a part.

The bytes go to a temporary file in the same folder (same file system, so the
rename is atomic), are flushed and fsynced, and only then ``os.replace`` puts the
file at its path; the folder is fsynced too, so the rename survives a power cut.
A process killed mid-write (even ``kill -9``) leaves at most a hidden
``.<name>.<pid>.<random>.tmp`` beside the target; the next write to the same
path removes such leftovers of processes that are gone.

:func:`publish` does the same for files already complete in a private staging folder (a
job that renders several files first and only then shows them): each is renamed into
place and the folder is fsynced.
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

log = logging.getLogger(__name__)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import (single-threaded then): temporary files are created 0600, the final
# file gets the permissions an ordinary open() would have given it.
_FILE_MODE = 0o666 & ~_current_umask()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still exists (the writer of a temporary file, the owner of a run)."""
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
        pid_text = candidate.name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or pid_alive(int(pid_text)):
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


def publish(staging: Path, folder: Path) -> list[Path]:
    """Rename every file of ``staging`` into ``folder`` (same file system); returns the new paths."""
    written = []
    for src in sorted(Path(staging).iterdir()):
        dst = Path(folder) / src.name
        with open(src, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(src, dst)
        written.append(dst)
    _fsync_folder(Path(folder))
    return written


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as fh:
        fh.write(data)


def write_text(path: str | Path, text: str) -> None:
    """``text`` as UTF-8, written atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, value) -> None:
    """Pretty JSON with sorted keys and a final newline, written atomically."""
    write_text(path, json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
