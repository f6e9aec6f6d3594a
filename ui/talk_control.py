"""The sidebar's talk control: a talk's scenes one after another, each a page of the dashboard set up as written.

A talk is a TOML file of ``talks/`` (or ``$SEQATTN_TALKS_DIR``), read by :mod:`seqattn.talks`. The sidebar
offers them in a **Talk** box ("none" by default); with one chosen it shows "scene 3 of 8", the scene's title
and note, and ◀ / ▶ (keys PageUp / PageDown, which a presenter's clicker sends; ← / → too on the pages without
a stepper of their own). Moving to a scene opens its page with that page's query parameters
(:func:`seqattn.talks.open_scene`: ``/Explore?run=<id>&seq=...&view=step&talk=<name>&scene=3``), keeping
``present`` and ``hide``; the page takes the scene's state from its address (Explore:
:func:`ui.explore_views.apply_address`). ``?talk=<name>&scene=3`` opens a scene directly.

A scene that cannot open as written (a run not trained yet, a sequence of the wrong length) opens what it can,
with one warning naming what is wrong; the next scene opens as usual. A talk file that cannot be read is its
one-line message in the sidebar, and the page below works as without a talk.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import streamlit as st

from seqattn.runs import runs_root
from ui.keys import STEPPER_PAGES
from ui.navigation import PAGES, go
from ui.shell import HIDE_PARAM, keep_presentation
from ui.text import plain

if TYPE_CHECKING:
    from seqattn.talks import Talk

TALK_KEY = "talk"  # the Talk box; also the address's ?talk=<name>
SCENE_PARAM = "scene"  # the address's ?scene=3 (1-based)
NONE = "none"
BACK_KEY, FORWARD_KEY = "talk_back", "talk_forward"  # ◀ / ▶: PageUp / PageDown
LEFT_KEY, RIGHT_KEY = "talk_left", "talk_right"  # hidden: ← / → where no stepper takes them
# Follow the speaker from scene to scene. (``present`` is bound to the presentation toggle, which refuses it
# here: ui.shell.keep_presentation puts it back.)
KEPT_PARAMS = (HIDE_PARAM,)

_NAME = "_talk_name"  # the chosen talk: the box's value lives on from page to page here (widget state does not)
_SCENE = "_talk_scene"  # the talk's scene, 1-based
_SEEN = "_talk_address"  # the address's (talk, scene) last taken in: a new one is a deep link
_ARRIVED = "_talk_arrived"  # a deep link to take in on this run
_ASKED = "_talk_asked"  # the scene number a deep link asked for (it may be past the talk's end)
_OPENED = "_talk_opened"  # (talk, scene, page key, problem) of the scene opened last
_GO = "_talk_go"  # open the current scene on this run (the box or a button asked)
_LOG = logging.getLogger("seqattn.ui")
_HIDDEN_ARROWS_CSS = f"<style>.st-key-{LEFT_KEY}, .st-key-{RIGHT_KEY} {{ display: none; }}</style>"


def talk_control(page_title: str) -> None:
    """Draw the talk control in the sidebar of page ``page_title`` and open the scene asked for.

    Call it after :func:`ui.shell.page_setup` and before the page runs: opening a scene switches pages
    (``st.switch_page``), and a scene's warning is drawn above the page.
    """
    from seqattn import talks  # here, not at the top: the first page's imports stay few (tests/test_lazy_imports.py)

    names = talks.list_talks()
    take_address(names)
    name = st.session_state.get(_NAME, NONE)
    if not names and name == NONE:
        return  # no talks here: no box either
    options = [NONE, *names]
    name = st.session_state[_NAME] = name if name in options else NONE
    st.session_state[TALK_KEY] = name
    st.sidebar.selectbox("Talk", options, key=TALK_KEY, on_change=_chosen,
                         help="A talk's scenes, one after another: each opens a page set up for it "
                              "(keys: PageDown / PageUp).")
    if name == NONE:
        return
    try:
        talk = talks.load_talk(name)
    except talks.TalkError as exc:
        st.sidebar.error(plain(exc), icon=":material/error:")
        return
    count = len(talk.scenes)
    scene = min(max(1, st.session_state.get(_SCENE) or 1), count)
    st.session_state[_SCENE] = scene
    asked = st.session_state.pop(_ASKED, None)
    note = (f"the address asks for scene {asked}, and the talk has {count}: here is its last." if asked and asked != scene
            else None)
    here = page_key(page_title)
    if st.session_state.pop(_ARRIVED, False) and not _shows_scene(talk, scene, here, note):
        st.session_state[_GO] = True
    if st.session_state.pop(_GO, False):
        open_scene(talk, scene, note)  # switches pages: the rest is drawn on the scene's page
    _draw(talk, scene, here)


def take_address(names: list[str]) -> None:
    """A ``?talk=<name>&scene=<n>`` not taken in yet (a deep link, a reload) becomes the talk and scene to show."""
    params = st.query_params
    wanted = (params.get(TALK_KEY), params.get(SCENE_PARAM))
    if not wanted[0] or wanted == st.session_state.get(_SEEN):
        return
    st.session_state[_SEEN] = wanted
    if wanted[0] not in names:
        st.sidebar.warning(f"There is no talk called {plain(wanted[0])} in {plain(_folder())}.",
                           icon=":material/warning:")
        return
    st.session_state[_NAME] = wanted[0]
    try:
        st.session_state[_SCENE] = st.session_state[_ASKED] = max(1, int(str(wanted[1] or "1").strip()))
    except ValueError:
        st.session_state[_SCENE] = 1
    st.session_state[_ARRIVED] = True


def page_key(title: str) -> str | None:
    """The key of :data:`ui.navigation.PAGES` of the page titled ``title`` (``"Explore"`` -> ``"explore"``)."""
    return next((key for key, entry in PAGES.items() if entry.title == title), None)


def open_scene(talk: Talk, scene: int, note: str | None = None) -> None:
    """Open scene ``scene`` (1-based) of ``talk``: its page, with its query (``hide`` kept; ``present`` keeps itself).

    What keeps it from opening as written (and ``note``, a word on how it was asked for) is remembered, and
    shown above its page by :func:`_draw`.
    """
    from seqattn import talks

    try:
        opening = talks.open_scene(talk, scene - 1, str(runs_root()))
    except Exception as exc:  # noqa: BLE001  (a talk goes on: the reason is shown, the page stays)
        _LOG.exception("scene %s of talk %s", scene, talk.name)
        st.session_state[_OPENED] = (talk.name, scene, None, _joined(note, f"{exc.__class__.__name__}: {exc}"))
        return
    page = opening.page if opening.page in PAGES else "home"
    st.session_state[_OPENED] = (talk.name, scene, page, _joined(note, opening.problem))
    query = dict(opening.query)
    query.update({key: st.query_params[key] for key in KEPT_PARAMS if key in st.query_params})
    st.session_state[_SEEN] = (query.get(TALK_KEY), query.get(SCENE_PARAM))  # ours, not a deep link
    keep_presentation()
    go(page, query)


def _shows_scene(talk: Talk, scene: int, here: str | None, note: str | None = None) -> bool:
    """Whether this page already shows the scene (a reload of its address): its page, with the scene's parameters.

    Their values may differ: the speaker may have typed another sequence since, and a reload keeps it.
    """
    from seqattn import talks

    try:
        opening = talks.open_scene(talk, scene - 1, str(runs_root()))
    except Exception:  # noqa: BLE001  (opening it again says why)
        return False
    if opening.page != here or any(key not in st.query_params for key in opening.query):
        return False
    st.session_state[_OPENED] = (talk.name, scene, here, _joined(note, opening.problem))
    return True


def _draw(talk: Talk, scene: int, here: str | None) -> None:
    """The scene's counter, title and note, the buttons to move, and above the page the scene's warning."""
    count = len(talk.scenes)
    shown = talk.scenes[scene - 1]
    with st.sidebar:
        st.caption(f"scene {scene} of {count}")
        st.markdown(f"**{plain(shown.title)}**")
        if shown.note:
            st.caption(plain(shown.note))
        back, forward = st.columns(2)
        back.button("◀", key=BACK_KEY, shortcut="PageUp", on_click=_move, args=(-1,), disabled=scene <= 1,
                    width="stretch", help="Previous scene (key: PageUp)")
        forward.button("▶", key=FORWARD_KEY, shortcut="PageDown", on_click=_move, args=(1,), disabled=scene >= count,
                       width="stretch", help="Next scene (key: PageDown)")
        if here not in STEPPER_PAGES:  # Explore and Train keep ← / → for their steppers
            st.button("Previous scene", key=LEFT_KEY, shortcut="Left", on_click=_move, args=(-1,), disabled=scene <= 1)
            st.button("Next scene", key=RIGHT_KEY, shortcut="Right", on_click=_move, args=(1,), disabled=scene >= count)
            st.html(_HIDDEN_ARROWS_CSS)
    opened = st.session_state.get(_OPENED)
    if opened and opened[:2] == (talk.name, scene) and opened[2] in (None, here):  # None: it could not open
        _keep_in_address(talk.name, scene)
        if opened[3]:
            st.warning(f"Scene {scene} ({plain(shown.title)}) cannot open as written: {plain(opened[3])}",
                       icon=":material/warning:")


def _keep_in_address(name: str, scene: int) -> None:
    """On the scene's own page, keep ``talk`` and ``scene`` in the address (the sidebar's links drop them), so a
    reload stays in the talk."""
    wanted = (name, str(scene))
    if (st.query_params.get(TALK_KEY), st.query_params.get(SCENE_PARAM)) != wanted:
        st.query_params[TALK_KEY], st.query_params[SCENE_PARAM] = wanted
        st.session_state[_SEEN] = wanted


def _chosen() -> None:
    """The Talk box changed: the other talk's first scene opens; "none" leaves the talk.

    The address drops the old talk and scene at once: a talk that cannot be read must not leave them behind.
    """
    for key in (TALK_KEY, SCENE_PARAM):
        st.query_params.pop(key, None)
    st.session_state[_SEEN] = (None, None)
    st.session_state[_NAME] = st.session_state.get(TALK_KEY, NONE)
    if st.session_state[_NAME] != NONE:
        st.session_state[_SCENE] = 1
        st.session_state[_GO] = True


def _move(delta: int) -> None:
    """◀ / ▶ and their keys: the previous or next scene (the control keeps it within the talk)."""
    st.session_state[_SCENE] = (st.session_state.get(_SCENE) or 1) + delta
    st.session_state[_GO] = True


def _joined(*parts: str | None) -> str | None:
    """The parts that are there, in one line; None if none is."""
    return " ".join(part for part in parts if part) or None


def _folder() -> str:
    from seqattn.talks import talks_folder

    return str(talks_folder())
