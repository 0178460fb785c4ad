"""Which columns of a user's file hold the series id, the timestamp and the target."""

from __future__ import annotations

from dataclasses import dataclass, field

# Canonical names used inside the library; user names are mapped onto these on load
# and back again on output.
ID, TIME, TARGET = "unique_id", "ds", "y"

# The id given to the only series of a file that has no id column.
SINGLE_SERIES_ID = "series_0"


@dataclass(frozen=True)
class Columns:
    """Names of the id, time and target columns in the user's file.

    ``covariates=None`` means "every other numeric column"; an explicit list must
    name numeric columns that exist.
    """

    id: str = ID
    time: str = TIME
    target: str = TARGET
    covariates: tuple[str, ...] | None = field(default=None)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "time": self.time,
            "target": self.target,
            "covariates": list(self.covariates) if self.covariates is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Columns:
        cov = d.get("covariates")
        return cls(
            id=d.get("id", ID),
            time=d.get("time", TIME),
            target=d.get("target", TARGET),
            covariates=tuple(cov) if cov is not None else None,
        )
