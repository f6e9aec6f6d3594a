"""How good a model is: exact match, accuracy by output step, the attention alignment score.

Owns: :mod:`~seqattn.evaluation.scoring` (scores of predictions against targets) and
:mod:`~seqattn.evaluation.held_out` (the callables a training's progress reporter calls at an
evaluation: held-out scores and the attention probe). May import: NumPy only. Takes predictors
and arrays; knows nothing of models' construction, problems, training or files.
"""
