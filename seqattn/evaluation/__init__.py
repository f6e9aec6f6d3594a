"""How good a model is: exact match, accuracy by output step, the attention alignment score.

Owns: :mod:`~seqattn.evaluation.scoring`. May import: NumPy only. Takes predictions and
targets as arrays; knows nothing of models, training or files.
"""
