"""Background jobs: start, follow and cancel a training, comparison or sweep in its own process.

Owns: :mod:`~seqattn.jobs.control` (``start``, ``status``, ``cancel``, launchers),
:mod:`~seqattn.jobs.worker` (the job's process), :mod:`~seqattn.jobs.tasks` (what a job
of each kind does), :mod:`~seqattn.jobs.slots` (the queue), :mod:`~seqattn.jobs.neighbours`
(our live processes and the memory they hold). May import: :mod:`seqattn.runs`,
:mod:`seqattn.sweeps`, :mod:`seqattn.training` and below; never :mod:`seqattn.speed` (the
dashboard hands a faster launcher in through ``start(..., launcher=)``).
"""
