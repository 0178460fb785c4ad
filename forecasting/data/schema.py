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
    name numeric columns that exist. ``target`` is one column, or a tuple of several: a
    multichannel target (e.g. the seven load and temperature columns of a transformer), whose
    columns are read as one series each (:func:`channel_id`) and told apart by the model.
    """

    id: str = ID
    time: str = TIME
    target: str | tuple[str, ...] = TARGET
    covariates: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.target, str):
            targets = tuple(str(t) for t in self.target)
            object.__setattr__(self, "target", targets[0] if len(targets) == 1 else targets)

    @property
    def targets(self) -> tuple[str, ...]:
        """The target column(s), always as a tuple."""
        return (self.target,) if isinstance(self.target, str) else self.target

    @property
    def multichannel(self) -> bool:
        return len(self.targets) > 1

    @property
    def target_label(self) -> str:
        """The target column(s) as messages name them: ``OT`` or ``HUFL, HULL, OT``."""
        return ", ".join(self.targets)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "time": self.time,
            "target": self.target if isinstance(self.target, str) else list(self.target),
            "covariates": list(self.covariates) if self.covariates is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Columns:
        cov, target = d.get("covariates"), d.get("target", TARGET)
        return cls(
            id=d.get("id", ID),
            time=d.get("time", TIME),
            target=target if isinstance(target, str) else tuple(target),
            covariates=tuple(cov) if cov is not None else None,
        )


def channel_id(series: str, column: str) -> str:
    """The id of one column of a multichannel target: ``series/column``, or just ``column``
    for a file that holds one series (no id column)."""
    return column if series == SINGLE_SERIES_ID else f"{series}/{column}"
