"""Many trainings: grids of cells, one cell's training, where cells run (in process or on Dask).

Owns: :mod:`~seqattn.sweeps.grid` (``SweepConfig``, cells of a grid, result tables),
:mod:`~seqattn.sweeps.cells` (``train_cell``), :mod:`~seqattn.sweeps.executors`,
:mod:`~seqattn.sweeps.cluster` (the Dask cluster), :mod:`~seqattn.sweeps.compare` (the
tutorial's comparison), :mod:`~seqattn.sweeps.records` (a run's cells read back) and
:mod:`~seqattn.sweeps.report` (what the Sweep page shows). May import: :mod:`seqattn.training`,
:mod:`seqattn.runs` and what they may import; never :mod:`seqattn.jobs` or :mod:`seqattn.speed`
(a cell takes its training setups through ``setups=``).
"""
