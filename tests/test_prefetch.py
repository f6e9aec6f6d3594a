"""The browser warm-up of ui.prefetch: it finds the installed Streamlit's element scripts and imports them."""

from __future__ import annotations

import re

from ui.prefetch import COMPONENTS, component_scripts, prefetch_html, static_scripts_dir


def test_every_component_script_is_found_in_the_installed_streamlit():
    # A Streamlit release that renames its element scripts makes this fail, not the dashboard.
    names = component_scripts()
    assert [name.split(".")[0] for name in names] == list(COMPONENTS)
    for name in names:
        assert re.fullmatch(r"[A-Za-z]+\.[\w-]+\.js", name), name
        assert (static_scripts_dir() / name).is_file()


def test_a_component_without_exactly_one_script_is_left_out(tmp_path):
    for name in ("DataFrame.abc123.js", "Slider.one.js", "Slider.two.js", "TextInput.x1.js.map", "Radio.css"):
        (tmp_path / name).write_text("")
    assert component_scripts(tmp_path, ("DataFrame", "Slider", "TextInput", "Radio", "Missing")) == [
        "DataFrame.abc123.js"]


def test_the_script_imports_each_name_next_to_streamlits_main_script_once():
    html = prefetch_html(["DataFrame.abc123.js", "Slider.x-9.js"])
    assert html.startswith("<script>") and html.endswith("</script>")
    assert '["DataFrame.abc123.js", "Slider.x-9.js"]' in html
    assert 'new URL("./" + name, main.src)' in html and "import(" in html
    assert "window.__seqattnPrefetch" in html  # a rerun of the page does not start it again


def test_a_script_asked_for_at_once_does_not_wait_for_the_browser_to_be_idle():
    assert "requestIdleCallback" in prefetch_html(["DataFrame.abc123.js"])
    html = prefetch_html(["PlotlyChart.abc123.js"], at_once=True)
    assert "requestIdleCallback" not in html and "(f) => f()" in html
    # Each name once per browser tab, whichever script asked first.
    assert "started.has(name)" in html and "started.add(name)" in html


def test_load_now_asks_the_browser_once_per_session():
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        from ui.prefetch import load_now

        # As a fresh server's deep link to Explore runs it: before the entry point's frame and inside it.
        load_now(("PlotlyChart",))
        load_now(("PlotlyChart",))

    at = AppTest.from_function(page).run()
    assert not at.exception
    bodies = [h.proto.body for h in at.sidebar.get("html")]
    assert len(bodies) == 1 and component_scripts(components=("PlotlyChart",))[0] in bodies[0], bodies
    at.run()  # the browser has it: the next runs ask no more
    assert not at.sidebar.get("html")
