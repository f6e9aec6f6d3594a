"""The models: which kinds exist, their settings, the attention layer, builders and predictors.

Owns: :mod:`~seqattn.model.registry` (model kinds), :mod:`~seqattn.model.config`
(``ModelConfig``), :mod:`~seqattn.model.attention` (the ``AttentionDecoder`` layer, from the
spec's equations) and :mod:`~seqattn.model.decoding` (its equations in NumPy/Keras ops),
:mod:`~seqattn.model.builders` (Keras models, the TensorFlow ``Predictor``),
:mod:`~seqattn.model.prediction` (the ``Prediction`` type), :mod:`~seqattn.model.inference`
(NumPy prediction from saved weights) and :mod:`~seqattn.model.what_if` (forced attention).
May import: :mod:`seqattn.configuration`, NumPy, Keras and TensorFlow (only in the modules
that build or run Keras models, so the registry and settings stay light). Knows nothing of
problems' generation, training or files: a builder takes the problem's shape.
"""
