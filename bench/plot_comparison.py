"""Render the tutorial comparison's loss curves (mean with min-max band) to SVG and PNG.

Usage: ``.venv/bin/python bench/plot_comparison.py docs/tutorial_comparison.csv docs/tutorial_loss.svg``

Reads the per-update losses CSV written next to the results CSV by
``python -m seqattn compare`` and draws :func:`seqattn.figures.mean_loss_band_figure`.
Plotly's own ``toImage`` runs in Debian's headless Chromium (driven by
Playwright), so no extra export package is needed.
"""

from __future__ import annotations

import base64
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from seqattn.figures import comparison_figure, mean_loss_band_figure  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SMOOTH_WINDOW = 100
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def export(figures: dict[Path, object], width: int = 1100, height: int = 550) -> None:
    """Write each figure to its path; the suffix (.svg or .png) picks the format."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        for path, fig in figures.items():
            page.set_content(fig.to_html(include_plotlyjs=True, full_html=True, div_id="fig"))
            page.wait_for_function("document.getElementById('fig') && document.getElementById('fig').data")
            fmt = path.suffix.lstrip(".")
            url = page.evaluate(
                "([fmt, w, h]) => Plotly.toImage(document.getElementById('fig'), {format: fmt, width: w, height: h})",
                [fmt, width, height],
            )
            header, payload = url.split(",", 1)
            data = base64.b64decode(payload) if ";base64" in header else urllib.parse.unquote(payload).encode()
            path.write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
        browser.close()


def main(argv: list[str]) -> None:
    results_csv = Path(argv[0]) if argv else Path("docs/tutorial_comparison.csv")
    out = Path(argv[1]) if len(argv) > 1 else Path("docs/tutorial_loss.svg")
    losses = pd.read_csv(results_csv.with_name(results_csv.stem + "_losses.csv"))
    results = pd.read_csv(results_csv)
    # One-pair updates give a very noisy loss; a moving average per repeat shows the trend.
    losses = losses.sort_values(["model", "repeat", "update"])
    losses["loss"] = losses.groupby(["model", "repeat"])["loss"].transform(
        lambda series: series.rolling(SMOOTH_WINDOW, min_periods=1).mean())
    repeats = losses["repeat"].nunique()
    loss_fig = mean_loss_band_figure(losses, log_y=True)
    loss_fig.update_layout(
        title=dict(text=f"Tutorial protocol, {repeats} repeats: loss ({SMOOTH_WINDOW}-update moving average), "
                        "mean with min-max band", y=0.97),
        margin=dict(t=110),
    )
    from seqattn.sweeps.compare import TUTORIAL_REFERENCE

    accuracy_fig = comparison_figure(results, TUTORIAL_REFERENCE)
    export({
        out: loss_fig,
        out.with_suffix(".png"): loss_fig,
        out.with_name("tutorial_accuracy.svg"): accuracy_fig,
    })


if __name__ == "__main__":
    main(sys.argv[1:])
