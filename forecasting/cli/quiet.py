"""Keep TensorFlow's native start-up lines (oneDNN, CUDA probing) out of the terminal.

TensorFlow's C++ logging writes those lines before ``TF_CPP_MIN_LOG_LEVEL`` takes
effect, straight to file descriptor 2, so the CLI imports TensorFlow and probes
devices once with that descriptor pointed at /dev/null. Python exceptions still
propagate; ``forecast -v`` shows everything.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_fd_silenced():
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
    with _stderr_fd_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
