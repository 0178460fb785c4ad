"""The registered model's aliases: ``champion`` serves, ``challenger`` is the latest candidate that
did not replace it. Every move of ``champion`` is recorded twice: on the version that gets it
(tags ``promoted_at``, ``promoted_how``, ``promotion_reason``) and in the registered model's
``champion_history`` tag (the versions that were champion, oldest first), which rollback walks
back. Moves happen under one lock per registered model (:func:`model_lock`), so two processes
cannot both read the same champion and replace it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from forecasting.errors import InputError
from forecasting.tracking.store import resolve_uri, sqlite_path

log = logging.getLogger(__name__)

CHAMPION, CHALLENGER = "champion", "challenger"
HISTORY_TAG = "champion_history"
LOCK_TIMEOUT_S = 900  # a comparison scoring the champion holds the lock for minutes at most


def lock_path(uri: str, name: str) -> Path:
    """The lock file of registered model ``name``: beside a SQLite store, else in the user cache."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    db = sqlite_path(uri)
    if db is not None:
        return db.resolve().parent / "locks" / f"{safe}.lock"
    digest = hashlib.sha256(uri.encode()).hexdigest()[:12]
    return Path.home() / ".cache" / "forecasting" / "locks" / f"{digest}-{safe}.lock"


@contextlib.contextmanager
def model_lock(uri: str, name: str) -> Iterator[None]:
    """Hold registered model ``name``'s lock (waiting for another holder) until the block ends."""
    from filelock import FileLock

    path = lock_path(uri, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path), timeout=LOCK_TIMEOUT_S):
        yield


def client(uri: str | None = None):
    import mlflow

    uri = resolve_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_registered_model(c, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        c.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def by_alias(c, name: str, alias: str):
    """The version holding ``alias``, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return c.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def history(c, name: str) -> list[str]:
    """Versions that were champion, oldest first (the current one last)."""
    raw = c.get_registered_model(name).tags.get(HISTORY_TAG)
    return [str(v) for v in json.loads(raw)] if raw else []


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_champion(c, name: str, version: str, how: str, reason: str) -> None:
    """Move ``champion`` to ``version`` and record the move (call under :func:`model_lock`)."""
    version = str(version)
    if (
        by_alias(c, name, CHALLENGER) is not None
        and by_alias(c, name, CHALLENGER).version == version
    ):
        c.delete_registered_model_alias(name, CHALLENGER)
    c.set_registered_model_alias(name, CHAMPION, version)
    for key, value in (
        ("promoted_at", _now()),
        ("promoted_how", how),
        ("promotion_reason", reason),
    ):
        c.set_model_version_tag(name, version, key, value[:5000])
    past = [v for v in history(c, name) if v != version] + [version]
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(past))
    log.info("%s version %s is now %s (%s)", name, version, CHAMPION, how)


def make_challenger(c, name: str, version: str, reason: str) -> None:
    """Give ``challenger`` to ``version``, a candidate that did not replace the champion."""
    c.set_registered_model_alias(name, CHALLENGER, str(version))
    c.set_model_version_tag(name, str(version), "not_promoted_reason", reason[:5000])
    log.info("%s version %s is %s: %s", name, version, CHALLENGER, reason)


def _existing_model(c, name: str, uri: str):
    from mlflow.exceptions import MlflowException

    try:
        return c.get_registered_model(name)
    except MlflowException:
        raise InputError(f"{uri}: no registered model {name!r}") from None


def promote(name: str, version: str, uri: str | None = None) -> str:
    """Make ``version`` the champion by hand; returns the previous champion's version (or "")."""
    from mlflow.exceptions import MlflowException

    uri = resolve_uri(uri)
    c = client(uri)
    _existing_model(c, name, uri)
    try:
        c.get_model_version(name, str(version))
    except MlflowException:
        raise InputError(f"{uri}: registered model {name!r} has no version {version!r}") from None
    with model_lock(uri, name):
        before = by_alias(c, name, CHAMPION)
        if before is not None and str(before.version) == str(version):
            raise InputError(f"{name}: version {version} is already the {CHAMPION}")
        make_champion(c, name, str(version), "forecast models promote", "promoted by hand")
    return str(before.version) if before is not None else ""


def rollback(name: str, uri: str | None = None) -> tuple[str, str]:
    """Give ``champion`` back to the version that held it before the current one;
    returns ``(from_version, to_version)``."""
    uri = resolve_uri(uri)
    c = client(uri)
    _existing_model(c, name, uri)
    with model_lock(uri, name):
        current = by_alias(c, name, CHAMPION)
        past = history(c, name)
        if current is None:
            raise InputError(f"{name}: there is no {CHAMPION} to roll back")
        now = str(current.version)
        earlier = [v for v in past if v != now]
        if not earlier:
            raise InputError(
                f"{name}: version {now} is the only {CHAMPION} so far; no previous one to roll back to"
            )
        target = earlier[-1]
        c.set_registered_model_alias(name, CHAMPION, target)
        c.set_model_version_tag(name, now, "rolled_back_at", _now())
        for key, value in (
            ("promoted_at", _now()),
            ("promoted_how", "forecast models rollback"),
            ("promotion_reason", f"rolled back from version {now}"),
        ):
            c.set_model_version_tag(name, target, key, value)
        c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(earlier))
    log.info("%s: %s moved back from version %s to %s", name, CHAMPION, now, target)
    return now, target


def versions_table(name: str, uri: str | None = None) -> pd.DataFrame:
    """Every version of ``name``, newest first: aliases, family, backtest metric, data, created."""
    uri = resolve_uri(uri)
    c = client(uri)
    model = _existing_model(c, name, uri)
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for v in c.search_model_versions(f"name = '{name}'"):
        tags = v.tags or {}
        metric = tags.get("metric", "")
        rows.append(
            {
                "version": int(v.version),
                "aliases": ",".join(sorted(aliases.get(str(v.version), []))),
                "family": tags.get("model_family", ""),
                "metric": metric,
                "backtest": float(tags[f"backtest_{metric}"])
                if f"backtest_{metric}" in tags
                else float("nan"),
                "data": tags.get("data_source", ""),
                "horizon": tags.get("horizon", ""),
                "created": datetime.fromtimestamp(v.creation_timestamp / 1000, UTC).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "promoted": tags.get("promoted_how", ""),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("version", ascending=False).reset_index(drop=True) if rows else table
