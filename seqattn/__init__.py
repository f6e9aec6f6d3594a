"""seqattn: an LSTM encoder-decoder with and without Bahdanau attention on the echo problem.

The code is grouped by concern, one package each; dependencies point one way (from the
top of this list down), and storage and figures know nothing of training:

- :mod:`seqattn.cli`: ``python -m seqattn ...``
- :mod:`seqattn.speed`: optional speed-ups behind two seams (used by entry points only)
- :mod:`seqattn.jobs`: background jobs (start, worker process, queue)
- :mod:`seqattn.sweeps`: many trainings (grids, cells, Dask, the tutorial's comparison)
- :mod:`seqattn.training`: recipe, data, setup, the loop and its callbacks, costs and budget
- :mod:`seqattn.runs`, :mod:`seqattn.figures`, :mod:`seqattn.explore`: saved runs, Plotly figures,
  the Explore page's answers
- :mod:`seqattn.evaluation`, :mod:`seqattn.model`, :mod:`seqattn.problem`: scores, models, problems
- :mod:`seqattn.configuration`, :mod:`seqattn.palette`, :mod:`seqattn.processes`: shared helpers

``import seqattn`` has no side effects: it sets no environment variable and installs no
import hook, and it loads neither TensorFlow nor any sub-package. The entry points (the
dashboard, the CLI, the job processes) set up what they need, such as XLA's disk cache.
Importing :mod:`seqattn.model.attention` registers the ``AttentionDecoder`` layer with Keras,
so ``keras.models.load_model`` can read a saved attention model
(:func:`seqattn.runs.load_models` does this for you).
"""

__version__ = "0.1.0"
