"""The home page's SVG diagram of the echo task (seqattn.diagrams): what it draws, from the data given."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from seqattn.diagrams import example_pair_svg
from seqattn.palette import ECHO_COLOR, PAD_COLOR

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root


def groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("class"): g for g in root.iter(f"{SVG}g")}


def test_rows_tokens_echo_arrows_and_padding():
    root = parsed(example_pair_svg([12, 20, 36, 40, 12], [12, 20, 0, 0, 0], n_out=2))
    title = root.find(f"{SVG}title").text
    assert title == "Echo task example: input [12, 20, 36, 40, 12], target [12, 20, 0, 0, 0] (the first 2 echoed)."
    boxes = groups(root)
    assert sorted(boxes) == sorted([f"input {t}" for t in range(1, 6)] + [f"target {t}" for t in range(1, 6)])
    assert [boxes[f"input {t}"].find(f"{SVG}text").text for t in range(1, 6)] == ["12", "20", "36", "40", "12"]
    assert [boxes[f"target {t}"].find(f"{SVG}text").text for t in range(1, 6)] == ["12", "20", "0", "0", "0"]
    fill = {name: g.find(f"{SVG}rect").get("fill") for name, g in boxes.items()}
    assert fill["input 1"] == fill["input 2"] == fill["target 1"] == fill["target 2"] == ECHO_COLOR
    assert fill["input 3"] != ECHO_COLOR and fill["target 3"] != ECHO_COLOR
    # The padding zeros are dashed and grey; the input's unechoed tokens are not.
    assert boxes["target 3"].find(f"{SVG}rect").get("stroke-dasharray")
    assert boxes["target 3"].find(f"{SVG}rect").get("stroke") == PAD_COLOR
    assert boxes["input 3"].find(f"{SVG}rect").get("stroke-dasharray") is None
    # One arrow per echoed position, pointing down from its input box to its target box.
    arrows = [line for line in root.iter(f"{SVG}line") if line.get("class") == "echo"]
    assert len(arrows) == 2
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "echo-head"]) == 2
    for arrow, t in zip(arrows, (1, 2)):
        box_x = float(boxes[f"input {t}"].find(f"{SVG}rect").get("x"))
        assert float(arrow.get("x1")) == float(arrow.get("x2")) == box_x + 32
        assert float(arrow.get("y2")) > float(arrow.get("y1"))
    assert boxes["input 2"].find(f"{SVG}title").text == "input position 2: token 20"


@pytest.mark.parametrize(("n_in", "n_out"), [(1, 1), (8, 3), (12, 12)])
def test_the_drawing_grows_with_the_sequence(n_in, n_out):
    tokens = list(range(n_in))
    target = tokens[:n_out] + [0] * (n_in - n_out)
    root = parsed(example_pair_svg(tokens, target, n_out))
    assert len(groups(root)) == 2 * n_in
    assert len([line for line in root.iter(f"{SVG}line") if line.get("class") == "echo"]) == n_out
    width = float(root.get("viewBox").split()[2])
    right_edge = max(float(g.find(f"{SVG}rect").get("x")) + float(g.find(f"{SVG}rect").get("width"))
                     for g in groups(root).values())
    assert right_edge <= width


def test_an_empty_pair_says_so():
    root = parsed(example_pair_svg([], [], n_out=2))
    assert "No example" in "".join(root.itertext()) and not groups(root)
