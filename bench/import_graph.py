"""The project's import graph, measured from its own source: cycles, depth and the longest chain.

Usage, from the checkout: ``python bench/import_graph.py``.

Nodes: ``dashboard.py``, every file of ``pages/`` and ``ui/``, every top-level module of
``seqattn/``, and every sub-package of ``seqattn/`` as ONE node. Edges: ``import seqattn.x``,
``from seqattn.x import y`` and ``from ui.x import y`` (relative ones too), at module level
and inside functions alike. A cycle is a strongly connected set of more than one node; the
depth counts nodes along the longest chain of imports. ``tests/test_structure.py`` holds the
project to no cycles and a depth of at most 8.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def source_files(root: Path = ROOT) -> list[Path]:
    """Every file that is a node or part of one."""
    files = [root / "dashboard.py"]
    for folder in ("pages", "ui", "seqattn"):
        files += sorted((root / folder).rglob("*.py"))
    return [f for f in files if f.exists() and "__pycache__" not in f.parts]


def node_of_file(path: Path, root: Path = ROOT) -> str:
    """``seqattn/model/`` for any file of that sub-package; the file's own path otherwise."""
    parts = path.relative_to(root).parts
    if parts[0] == "seqattn" and len(parts) > 2:
        return f"seqattn/{parts[1]}/"
    return "/".join(parts)


def node_of_module(name: str, root: Path = ROOT) -> str | None:
    """The node a dotted module name belongs to, or None outside the project."""
    parts = name.split(".")
    if parts[0] == "seqattn":
        if len(parts) == 1:
            return "seqattn/__init__.py"
        if (root / "seqattn" / parts[1]).is_dir():
            return f"seqattn/{parts[1]}/"
        return f"seqattn/{parts[1]}.py" if (root / "seqattn" / f"{parts[1]}.py").exists() else None
    if parts[0] == "ui" and len(parts) > 1 and (root / "ui" / f"{parts[1]}.py").exists():
        return f"ui/{parts[1]}.py"
    return None


def imported_names(path: Path, root: Path = ROOT) -> Iterable[str]:
    """Dotted names a file imports (``from a import b`` gives ``a`` and ``a.b``)."""
    package = list(path.relative_to(root).with_suffix("").parts)
    if package[-1] != "__init__":
        package = package[:-1]
    else:
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Node -> the nodes it imports (itself left out)."""
    edges: dict[str, set[str]] = {}
    for path in source_files(root):
        source = node_of_file(path, root)
        targets = edges.setdefault(source, set())
        for name in imported_names(path, root):
            target = node_of_module(name, root)
            if target is not None and target != source:
                targets.add(target)
    return edges


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, each a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def longest_chain(edges: dict[str, set[str]]) -> list[str]:
    """The longest chain of imports, components of a cycle counted as one node each (joined by ``|``)."""
    components = strongly_connected(edges)
    component_of = {v: i for i, c in enumerate(components) for v in c}
    below = {i: {component_of[w] for v in c for w in edges.get(v, ()) if component_of[w] != i}
             for i, c in enumerate(components)}
    depth: dict[int, list[int]] = {}

    def chain(i: int) -> list[int]:
        if i not in depth:
            depth[i] = [i] + max((chain(j) for j in below[i]), key=len, default=[])
        return depth[i]

    best = max((chain(i) for i in range(len(components))), key=len, default=[])
    return ["|".join(components[i]) for i in best]


def main() -> int:
    edges = import_graph()
    cycles = [c for c in strongly_connected(edges) if len(c) > 1]
    for cycle in cycles:
        print("cycle:", ", ".join(cycle))
        for a in cycle:
            for b in sorted(edges.get(a, set()) & set(cycle)):
                print(f"   {a} -> {b}")
    chain = longest_chain(edges)
    print("longest chain:", " -> ".join(chain))
    nodes = set(edges) | {w for ws in edges.values() for w in ws}
    print(f"nodes {len(nodes)}, cycles {len(cycles)}, depth {len(chain)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
