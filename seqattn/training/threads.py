"""How a training process uses the CPU: TensorFlow's thread pools, fitted before the first op."""

from __future__ import annotations

import os


def fit_threads_to_process(threads: int | None = None) -> None:
    """Give TensorFlow ``threads`` intra-op threads (default: cores - 1) and one inter-op thread.

    TensorFlow fixes its thread pools when it first runs an op; later calls are
    ignored here rather than raising.
    """
    # TensorFlow loads here, not on import: a queued job imports this module before it may load it.
    import tensorflow as tf

    threads = threads or max(1, (os.cpu_count() or 2) - 1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
