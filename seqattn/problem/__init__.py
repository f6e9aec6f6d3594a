"""The problems the models learn: today the echo problem (settings, batches) and typed input.

Owns: :mod:`~seqattn.problem.echo` (``ProblemConfig``, batches, ``make_pair``) and
:mod:`~seqattn.problem.parsing` (a typed sequence to integers, with messages fit for a form).
May import: :mod:`seqattn.configuration` and NumPy. Knows nothing of models, training or files.
"""
