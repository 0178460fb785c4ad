"""Output templates: the path of one run, with its as-of time and the schedule's name filled in.

A template may hold ``{as_of}`` (with a strftime format: ``{as_of:%Y%m%d%H}``) and ``{name}``,
nothing else: no attribute or index access (``{as_of.__class__}``, ``{name[0]}``), no
conversion (``{name!r}``), no field inside a format and no format on ``{name}``. A template
stored before this rule is checked again at each run.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path

from forecasting.errors import InputError

TEMPLATE_FIELDS = ("as_of", "name")
USE = "use {as_of:%Y%m%d%H} or {name}"


def _field_text(field: str, conversion: str | None, spec: str) -> str:
    return (
        "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )


def check_fields(template: str) -> None:
    """Raises :class:`InputError`, in one line, for any field but ``{as_of:FORMAT}`` and ``{name}``."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(f"--output {template!r}: {exc}") from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        text = _field_text(field, conversion, spec or "")
        if field not in TEMPLATE_FIELDS:
            what = "unknown field" if field.isidentifier() or not field else "field not allowed"
            raise InputError(f"--output {template!r}: {what} {text} ({USE})")
        if conversion or "{" in (spec or "") or (field == "name" and spec):
            raise InputError(f"--output {template!r}: field not allowed {text} ({USE})")


def render_output(template: str, as_of: datetime, name: str) -> Path:
    """The output path of one run: ``{as_of:%Y%m%d%H}`` and ``{name}`` are filled in."""
    check_fields(template)
    try:
        return Path(template.format(as_of=as_of, name=name))
    except ValueError as exc:
        raise InputError(f"--output {template!r}: cannot fill in the template: {exc}") from None


def check_template(template: str) -> None:
    """Raises :class:`InputError` for a field that is not allowed or an output type that is not CSV or Parquet."""
    from forecasting.serving.output import output_format

    output_format(render_output(template, datetime(2024, 1, 31, 23, 59, tzinfo=UTC), "example"))
