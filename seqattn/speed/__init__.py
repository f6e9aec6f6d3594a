"""Optional speed-ups, behind two seams; nothing else in the core imports this package.

- A launcher for :func:`seqattn.jobs.control.start` (``launcher=``): a warm training process
  (:mod:`~seqattn.speed.warm_pool`) that has loaded TensorFlow and prepared the likely job.
- Training setups (:class:`~seqattn.speed.setups.FastSetups`, a
  :class:`~seqattn.training.session.SetupSource` handed to jobs and cells as ``setups=``):
  prepared ahead (:mod:`~seqattn.speed.warm_start`) or reused from the last job of the same shapes.
- :mod:`~seqattn.speed.xla_cache`: XLA's compilation cache on disk, turned on by entry points.

Entry points (the dashboard, the CLI, the processes this package starts) choose to use it.
"""
