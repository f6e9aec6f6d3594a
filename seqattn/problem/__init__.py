"""The problems the models learn: tasks, their settings, batches and typed input.

Owns: :mod:`~seqattn.problem.task` (the :class:`~seqattn.problem.task.Task` seam every task
goes through), one module per task (:mod:`~seqattn.problem.echo`, :mod:`~seqattn.problem.reverse`,
:mod:`~seqattn.problem.sort`, :mod:`~seqattn.problem.dates`) and :mod:`~seqattn.problem.registry`
(one line each), :mod:`~seqattn.problem.config` (``ProblemConfig``, which names its task),
:mod:`~seqattn.problem.batches` (one-hot batches of any task) and :mod:`~seqattn.problem.parsing`
(typed text to tokens, with messages fit for a form).
May import: :mod:`seqattn.configuration` and NumPy. Knows nothing of models, training or files.
"""
