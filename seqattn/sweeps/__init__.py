"""Many trainings: grids of cells, one cell's training, where cells run (in process or on Dask).

Owns: :mod:`~seqattn.sweeps.grid` (``SweepConfig``, cells of a grid, result tables),
:mod:`~seqattn.sweeps.cells` (``train_cell``), :mod:`~seqattn.sweeps.executors`,
:mod:`~seqattn.sweeps.cluster` (the Dask cluster) and :mod:`~seqattn.sweeps.compare` (the
tutorial's comparison). May import: :mod:`seqattn.training` and what it may import.
"""
