"""The bundled real dataset: hourly temperatures of Seattle and San Francisco in 2010.

It ships inside the ``vega_datasets`` package (no network at run time): two
series of 8,759 hourly readings in °F; one hour of the year is really missing
(the spring daylight-saving change), which the fill policy has to handle.
"""

from __future__ import annotations

import pandas as pd

from forecasting.data.schema import ID, TARGET, TIME

BUNDLED_PREFIX = "bundled:"
CITY_TEMPS = "city-temps"
DATASETS = (CITY_TEMPS,)


def is_bundled(source: str) -> bool:
    return str(source).startswith(BUNDLED_PREFIX)


def load_bundled(source: str) -> pd.DataFrame:
    """Long-format frame (``unique_id, ds, y``) for ``bundled:<name>``."""
    from forecasting.errors import DataError

    name = str(source)[len(BUNDLED_PREFIX) :]
    if name != CITY_TEMPS:
        raise DataError(f"{source}: unknown bundled dataset (available: {', '.join(DATASETS)})")
    from vega_datasets import local_data

    parts = []
    for uid, loader in (
        ("seattle", local_data.seattle_temps),
        ("san_francisco", local_data.sf_temps),
    ):
        raw = loader()
        parts.append(pd.DataFrame({ID: uid, TIME: raw["date"], TARGET: raw["temp"]}))
    return pd.concat(parts, ignore_index=True)
