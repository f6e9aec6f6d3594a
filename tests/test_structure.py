"""The code's structure: one-way imports, small modules and thin pages, an installed package."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "bench" / "import_graph.py")
import_graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)

MAX_DEPTH = 8
MAX_PAGE_LINES = 160
MAX_MODULE_LINES = 350
# Only entry points may use the speed machinery; the core reaches it through its two seams.
SPEED_USERS = ("dashboard.py", "seqattn/cli/", "seqattn/speed/")


def test_the_import_graph_has_no_cycles_and_is_at_most_eight_levels_deep():
    edges = import_graph.import_graph()
    cycles = [c for c in import_graph.strongly_connected(edges) if len(c) > 1]
    assert cycles == []
    chain = import_graph.longest_chain(edges)
    assert len(chain) <= MAX_DEPTH, " -> ".join(chain)


def test_a_made_up_cycle_is_found_and_deepens_nothing():
    # The measure itself: a two-node cycle is one component, and the chain goes through it once.
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": set()}
    assert [c for c in import_graph.strongly_connected(edges) if len(c) > 1] == [["a", "b"]]
    assert import_graph.longest_chain(edges) == ["a|b", "c"]


def test_only_entry_points_import_the_speed_machinery():
    edges = import_graph.import_graph()
    users = sorted(node for node, targets in edges.items() if "seqattn/speed/" in targets)
    assert [u for u in users if not u.startswith(SPEED_USERS)] == []


def test_storage_and_figures_know_nothing_of_training_jobs_or_speed():
    edges = import_graph.import_graph()
    for node in ("seqattn/runs/", "seqattn/figures/"):
        assert not edges[node] & {"seqattn/training/", "seqattn/sweeps/", "seqattn/jobs/", "seqattn/speed/"}, node
    assert not edges["seqattn/model/"] & {"seqattn/problem/", "seqattn/runs/", "seqattn/training/"}


def test_pages_are_thin_and_modules_small():
    pages = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "pages").glob("*.py")}
    assert pages and all(n <= MAX_PAGE_LINES for n in pages.values()), pages
    big = {str(p.relative_to(ROOT)): n for p in (ROOT / "seqattn").rglob("*.py")
           if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert big == {}


def test_the_package_imports_from_any_folder(tmp_path):
    # `make run` / `make test` install the checkout in editable mode: no PYTHONPATH, another folder.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", "import seqattn, seqattn.jobs.worker; print(seqattn.__file__)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(done.stdout.strip()).resolve() == ROOT / "seqattn" / "__init__.py"
