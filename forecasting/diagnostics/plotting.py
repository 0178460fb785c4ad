"""Matplotlib on the Agg backend, shared by the diagnostics plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plt", "save"]


def save(fig, path, tight: bool = True) -> None:
    """Write ``fig`` as a PNG at ``path`` and free it."""
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
