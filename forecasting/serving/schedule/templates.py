"""Output templates: the path of one run, with its as-of time and the schedule's name filled in."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path

from forecasting.errors import InputError

TEMPLATE_FIELDS = ("as_of", "name")


def render_output(template: str, as_of: datetime, name: str) -> Path:
    """The output path of one run: ``{as_of:%Y%m%d%H}`` and ``{name}`` are filled in."""
    try:
        return Path(template.format(as_of=as_of, name=name))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise InputError(f"--output {template!r}: cannot fill in the template: {exc}") from None


def check_template(template: str) -> None:
    """Raises :class:`InputError` for an unknown field or an output type that is not CSV or Parquet."""
    from forecasting.serving.output import output_format

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise InputError(f"--output {template!r}: {exc}") from None
    for f in fields:
        if f.split(".")[0].split("[")[0] not in TEMPLATE_FIELDS:
            raise InputError(
                f"--output {template!r}: unknown field {{{f}}} (use {{as_of:%Y%m%d%H}} or {{name}})"
            )
    output_format(render_output(template, datetime(2024, 1, 31, 23, 59, tzinfo=UTC), "example"))
