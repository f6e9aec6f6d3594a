"""A job's process with the speed machinery: ``python -m seqattn.speed.worker <run directory>``.

The same as :mod:`seqattn.jobs.worker`, but the job takes its training setups from
:class:`~seqattn.speed.setups.FastSetups` (a comparison's repeats reuse the traced step of the
one before) and compiled XLA programs come from the disk cache. The dashboard's warm pool
starts it when no warm process is waiting.
"""

from __future__ import annotations

import os
import sys

from seqattn.jobs.worker import main as run_job
from seqattn.speed import xla_cache
from seqattn.speed.setups import FastSetups


def main(argv: list[str] | None = None) -> int:
    """Run the job in the run directory given in ``argv`` (default the command line's); see :func:`run_job`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    xla_cache.enable()
    return run_job(argv, setups=FastSetups())


if __name__ == "__main__":
    sys.exit(main())
