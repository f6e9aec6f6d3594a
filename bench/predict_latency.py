"""Server-side cost of one keystroke on the Explore page (issue: fast answers).

Times ``explain`` (parse + one forward pass per model + attention) plus building
the heatmap figure, on the seed config (K=50, n_in=5, 150 units), with the NumPy
predictors the dashboard uses (read from saved ``.keras`` files,
:mod:`seqattn.model.inference`); for contrast, the same with TensorFlow's traced
predictors and with ``model.predict``. Prints p50 and p90 in ms.

Run: ``.venv/bin/python bench/predict_latency.py``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from seqattn.explore import explain  # noqa: E402
from seqattn.figures import attention_heatmap  # noqa: E402
from seqattn.model.inference import ArrayPredictor  # noqa: E402
from seqattn.model.builders import Predictor, build_attention, build_baseline  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.problem.batches import one_hot  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def keystrokes(problem: ProblemConfig, predictors: dict, texts: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds per keystroke (explain + heatmap figure), and of those the figure's."""
    explain(texts[0], problem, predictors)  # trace once, as the dashboard's cache does
    keystroke, figure_ms = [], []
    for text in texts:
        start = time.perf_counter()
        result = explain(text, problem, predictors)
        middle = time.perf_counter()
        attention_heatmap(result.attention, result.inputs, result.answers["attention"].tokens,
                          problem.n_out, expected_tokens=result.expected)
        end = time.perf_counter()
        keystroke.append((end - start) * 1000)
        figure_ms.append((end - middle) * 1000)
    return keystroke, figure_ms


def main(repeats: int = 300) -> None:
    problem = ProblemConfig()
    models = {"baseline": build_baseline(problem), "attention": build_attention(problem)}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in models.items():
            model.save(Path(tmp) / f"{name}.keras")
        started = time.perf_counter()
        arrays = {name: ArrayPredictor.from_file(Path(tmp) / f"{name}.keras") for name in models}
        read_ms = (time.perf_counter() - started) * 1000
    rng = np.random.default_rng(0)
    texts = [", ".join(map(str, rng.integers(0, 50, 5))) for _ in range(repeats)]
    keystroke, figure_ms = keystrokes(problem, arrays, texts)
    traced, _ = keystrokes(problem, {name: Predictor(model) for name, model in models.items()}, texts)

    x = one_hot(np.array([[1, 2, 3, 4, 5]]), 50)
    predict_ms = []
    for _ in range(30):
        start = time.perf_counter()
        for model in models.values():
            model.predict(x, verbose=0)
        predict_ms.append((time.perf_counter() - start) * 1000)

    print(f"reading both saved models for NumPy: {read_ms:.0f} ms")
    print(f"parse + both predictions + attention + heatmap figure: p50 {percentile(keystroke, 50):.2f} ms, "
          f"p90 {percentile(keystroke, 90):.2f} ms over {repeats} sequences (NumPy, as the dashboard)")
    print(f"  of which the Plotly figure: p50 {statistics.median(figure_ms):.2f} ms")
    print(f"for contrast, with TensorFlow's traced predictors: p50 {percentile(traced, 50):.2f} ms; "
          f"model.predict on both models: p50 {percentile(predict_ms, 50):.1f} ms")


if __name__ == "__main__":
    main()
