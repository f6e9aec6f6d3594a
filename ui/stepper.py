"""The stepper: a slider over a few values with ◀ ▶ buttons on either side and the arrow keys.

Explore steps through output steps with it, Train's replay through evaluations.
The slider's value is ``st.session_state[key]`` (a page may set it, e.g. from a
click on a heatmap cell); the buttons are keyed ``<key>_back`` and ``<key>_forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st


def _move(key: str, options: Sequence[Any], delta: int) -> None:
    """The ◀ / ▶ buttons and the arrow keys: the previous or next value, stopping at either end."""
    current = st.session_state.get(key)
    index = options.index(current) if current in options else len(options) - 1
    st.session_state[key] = options[min(len(options) - 1, max(0, index + delta))]


def stepper(label: str, options: Sequence[Any], key: str, item: str, help: str, start: int = 0) -> Any:
    """Draw the stepper over ``options`` and return the chosen one.

    ``item`` names one step in the buttons' help ("output step"); a value not among
    ``options`` (none chosen yet, or another run's) becomes ``options[start]``. With a
    single option there is nothing to step through: a caption says so.
    """
    options = list(options)
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[start]
    if len(options) < 2:
        st.caption(f"{label}: {options[0]} (the only one)")
        return options[0]
    back, slider, forward = st.columns([1, 10, 1], vertical_alignment="bottom")
    back.button("◀", key=f"{key}_back", shortcut="Left", on_click=_move, args=(key, options, -1),
                help=f"Previous {item} (key: ←)")
    forward.button("▶", key=f"{key}_forward", shortcut="Right", on_click=_move, args=(key, options, 1),
                   help=f"Next {item} (key: →)")
    with slider:
        return st.select_slider(label, options=options, key=key, help=help)
