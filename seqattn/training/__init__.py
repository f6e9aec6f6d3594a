"""Training: the recipe, the data stream, the training setup, the loop and its callbacks, costs.

May import: :mod:`seqattn.problem`, :mod:`seqattn.model`, :mod:`seqattn.evaluation`,
:mod:`seqattn.configuration`. Knows nothing of files, jobs or the speed machinery: a caller
may hand in a ready training setup (``setup=``), and the callers that run many jobs take
setups from a :class:`~seqattn.training.session.SetupSource` (``setups=``), which is how
:mod:`seqattn.speed` helps.
"""
