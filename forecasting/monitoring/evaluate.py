"""``forecast evaluate``: past forecasts joined with the actuals that have arrived since, scored,
logged to each version's monitoring run, and judged by the drift rule.

Everything that can be bad input is checked before anything is written: the forecasts' lineage,
the model name, each version in the registry, the actuals (read and validated by
:func:`forecasting.data.load_series`, as training data are, with gaps left missing rather than
filled: an invented actual would be scored) and their frequency against the model's. Only then
are the monitoring runs and the version tags written (:mod:`forecasting.monitoring.record`).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecasting.config import MonitoringConfig
from forecasting.data import Columns, load_series
from forecasting.data.frequency import frequency_mismatch
from forecasting.data.schema import TIME
from forecasting.errors import DataError, InputError
from forecasting.exit_status import ExitStatus
from forecasting.monitoring.drift import Verdict, judge
from forecasting.monitoring.expectation import Expectation, backtest_expectation
from forecasting.monitoring.past import PastForecast, find_forecasts, of_model
from forecasting.monitoring.record import Logged, record
from forecasting.monitoring.scoring import ScoredForecast, score_forecast
from forecasting.packaging.state import PackagedState

log = logging.getLogger(__name__)


@dataclass
class VersionReport:
    """One registered model version: its forecasts scored, the expectation, the verdict."""

    name: str
    version: str
    expected: Expectation
    scored: list[ScoredForecast]
    verdict: Verdict
    logged: Logged | None = None

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass
class EvaluationReport:
    versions: list[VersionReport] = field(default_factory=list)

    @property
    def exit_status(self) -> ExitStatus:
        alarm = any(v.verdict.alarm for v in self.versions)
        return ExitStatus.DRIFT_ALARM if alarm else ExitStatus.OK


def _state(client, name: str, version: str, source: Path) -> PackagedState:
    """The packaged state of ``name`` version ``version`` (its columns, frequency, season)."""
    from mlflow.exceptions import MlflowException

    from forecasting.packaging.folder import read_state
    from forecasting.tracking.model_ref import ModelRef, fetch_model

    try:
        mv = client.get_model_version(name, version)
    except MlflowException:
        raise InputError(
            f"{source}: lineage names {name!r} version {version}, which the registry does not have"
        ) from None
    ref = ModelRef(
        f"models:/{name}/{version}", f"models:/{name}/{version}", name, version, mv.run_id
    )
    with tempfile.TemporaryDirectory(prefix="forecast-evaluate-") as tmp:
        return read_state(fetch_model(ref, Path(tmp) / "model"), f"model {ref.label}")


def _actuals(path: str, state: PackagedState, reading: dict) -> pd.DataFrame:
    """The actuals in canonical long format, validated, at the model's frequency."""
    columns = Columns(
        id=state.columns.id, time=state.columns.time, target=state.columns.target, covariates=()
    )
    data = load_series(path, columns, fill="drop", **reading)
    mismatch = frequency_mismatch(
        pd.tseries.frequencies.to_offset(data.freq), state.freq, data.frame[TIME]
    )
    if mismatch:
        raise DataError(f"{path}: column {state.columns.time!r}: {mismatch}")
    return data.frame


def evaluate(
    forecasts: str,
    actuals: str,
    model: str | None = None,
    tracking_uri: str | None = None,
    settings: MonitoringConfig | None = None,
    reading: dict | None = None,
) -> EvaluationReport:
    """Score the forecasts matching glob ``forecasts`` on ``actuals`` and judge each version.

    Args:
        forecasts: glob of forecast files written by ``forecast predict`` (each with its
            ``.lineage.json``).
        actuals: CSV or Parquet in the training file's long format; it should hold the history
            before the forecasts too (MASE's scale and the baseline come from it).
        model: only forecasts of this registered model; it must exist.
        tracking_uri: the store with the registry; monitoring runs go to its ``monitoring``
            experiment.
        settings: the drift rule (``monitoring`` section of the pipeline config).
        reading: ``sep``, ``dayfirst``, ``date_format`` for reading ``actuals``.

    Raises:
        InputError: one line naming the file, column or value; nothing is written.
    """
    from forecasting.tracking.registry import client as registry_client
    from forecasting.tracking.registry import model_lock
    from forecasting.tracking.store import use_store

    settings = settings or MonitoringConfig()
    reading = {k: v for k, v in (reading or {}).items() if v is not None}
    past = find_forecasts(forecasts)  # the lineage checked before the store is even opened
    uri = use_store(tracking_uri)
    c = registry_client(uri)
    if model is not None:
        from mlflow.exceptions import MlflowException

        try:
            c.get_registered_model(model)
        except MlflowException:
            raise InputError(
                f"--model {model!r}: no registered model of that name in {uri}"
            ) from None
        past = of_model(past, model, forecasts)
    groups: dict[tuple[str, str], list[PastForecast]] = {}
    for forecast in past:
        groups.setdefault(forecast.key, []).append(forecast)
    frames: dict[tuple, pd.DataFrame] = {}
    reports = []
    for (name, version), group in groups.items():
        state = _state(c, name, version, group[0].path)
        key = (state.columns.id, state.columns.time, state.columns.target, state.freq)
        if key not in frames:
            frames[key] = _actuals(actuals, state, reading)
        expected = backtest_expectation(c, name, version, state.fallback)
        scored = [score_forecast(f, frames[key], state.period, expected.baseline) for f in group]
        for s in scored:
            for note in s.notes:
                log.warning("%s: %s", s.forecast.path, note)
        verdict = judge(scored, expected, settings, f"{name} v{version}")
        reports.append(VersionReport(name, version, expected, scored, verdict))
    for report in reports:  # nothing is written before every version was read and scored
        with model_lock(uri, f"{report.name}.monitoring"):
            report.logged = record(
                uri,
                report.name,
                report.version,
                report.scored,
                report.expected,
                report.verdict,
                settings,
            )
    return EvaluationReport(reports)
