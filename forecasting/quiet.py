"""Keep native start-up lines (TensorFlow's oneDNN/CUDA probing, the JVM's warnings) out of
the terminal.

TensorFlow's C++ logging writes those lines before ``TF_CPP_MIN_LOG_LEVEL`` takes effect,
straight to file descriptor 2, so the CLI imports TensorFlow and probes devices once with
that descriptor pointed at /dev/null; Spark's start-up does the same. Python exceptions
still propagate; ``forecast -v`` shows everything.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_fd_silenced():
    """Point file descriptor 2 at /dev/null for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    with stderr_fd_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
