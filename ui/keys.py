"""Presenter keys: one key per stage action, and the list that ``?`` shows.

Streamlit's own ``shortcut=`` on buttons does the work (it ignores keys typed
into a text box). A talk's keys (:mod:`ui.talk_control`) are PageDown / PageUp,
which presenters' clickers send, and ← / → on the pages whose own stepper does
not take them. ``?`` is punctuation, which ``shortcut=`` does not take, so a
few lines of script click the hidden "Keys" button for it, also only when the
focus is not in a text box.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

# (key shown to the user, what it does), by page; "all" is every page.
PRESENTER_KEYS: dict[str, list[tuple[str, str]]] = {
    "all": [("p", "presentation mode on/off"), ("?", "this list of keys")],
    "Explore": [("n", "new random sequence"), ("← / →", "previous / next output step")],
    "Train": [("t", "start training with the form's settings"), ("← / →", "step through the training replay")],
}
# The pages whose stepper (ui.stepper) takes ← / →: there a talk's scenes move with PageDown / PageUp only.
STEPPER_PAGES = ("explore", "train")
TALK_KEYS = [("PageDown / PageUp", "next / previous scene of the talk (a clicker's buttons)")]
TALK_ARROW_KEYS = [("→ / ←", "next / previous scene of the talk")]

KEYS_BUTTON = "keys_help"

_QUESTION_MARK_SCRIPT = """
<script>
(() => {
  if (window.__seqattnKeys) return;
  window.__seqattnKeys = true;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const button = document.querySelector(".st-key-KEYS_BUTTON button");
    if (button) { event.preventDefault(); button.click(); }
  });
})();
</script>
""".replace("KEYS_BUTTON", KEYS_BUTTON)


def keys_for(page: str) -> list[tuple[str, str]]:
    """The keys that work on ``page`` (a title: its own first, then a talk's, then those of every page)."""
    talk = TALK_KEYS + ([] if page.lower() in STEPPER_PAGES else TALK_ARROW_KEYS)
    return PRESENTER_KEYS.get(page, []) + talk + PRESENTER_KEYS["all"]


def keys_markdown(page: str) -> str:
    """The keys of ``page`` as a Markdown table (key, what it does)."""
    rows = "\n".join(f"| `{key}` | {what} |" for key, what in keys_for(page))
    return f"| Key | Does |\n|---|---|\n{rows}\n\nKeys work when the cursor is not in a text box."


def presenter_keys(page: str, toggle_presentation: Callable[[], None]) -> None:
    """Draw the sidebar's key controls: ``p`` flips presentation mode, ``?`` lists the keys."""

    @st.dialog("Presenter keys")
    def show_keys() -> None:
        st.markdown(keys_markdown(page))

    with st.sidebar:
        # Hidden: the toggle above is what people see; this only carries the key.
        st.button("Presentation mode on/off", key="presentation_key", shortcut="P", on_click=toggle_presentation)
        if st.button("Keys", key=KEYS_BUTTON, icon=":material/keyboard:", type="tertiary",
                     help="Presenter keys (press ? anywhere outside a text box)."):
            show_keys()
        st.html("<style>.st-key-presentation_key { display: none; }</style>" + _QUESTION_MARK_SCRIPT,
                unsafe_allow_javascript=True)
