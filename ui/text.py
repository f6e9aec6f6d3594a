"""User-supplied text in Streamlit messages: shown as written, never rendered as Markdown.

``st.error``, ``st.warning``, ``st.info``, ``st.caption`` and ``st.markdown``
render Markdown, so a query parameter such as ``[Log in](https://x.io)`` would
become a clickable link and ``![x](https://x.io/a.png)`` an image the browser
fetches. Anything that may hold user text (a query parameter, a run id, a file
name, an exception message, a run's recorded error) goes through one of these.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the
# ones Markdown, GitHub Markdown (autolinks, tables, strikethrough) or Streamlit
# (":red[...]" colours, ":material/icon:", "$math$") give a meaning to.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~:$&=\"'])")


def plain(text: object, limit: int = 500) -> str:
    """``text`` escaped so Markdown shows it literally (no link, image, emphasis, colour or math).

    Line breaks become spaces, and text longer than ``limit`` characters is cut with "…".
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _SPECIAL.sub(r"\\\1", flat)


def code(text: object, limit: int = 40) -> str:
    """``text`` as a Markdown code span: shown literally, its own backticks defused, cut to ``limit``."""
    flat = " ".join(str(text).replace("`", "'").split())
    return f"`{flat[:limit - 1] + '…' if len(flat) > limit else flat}`"
