"""Guards that keep the package's shape: no import cycles, no import up the layer list of
DEVELOPERS.md, kinds that do not import each other, no kind name compared outside `kinds/`, and
light imports that stay light.

The modules are read with `ast`, never imported. Imports inside `if TYPE_CHECKING:` are type
annotations only and do not count; imports inside functions do (they run).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "narrowtune"
BUILTIN_KINDS = ("classify", "extract", "generate")


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_of(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, minus the bodies of `if TYPE_CHECKING:` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _resolve(source: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = source.split(".")
    is_package = MODULES[source].name == "__init__.py"
    base = package if is_package else package[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def edges() -> list[Edge]:
    out = []
    for source, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_nodes(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _resolve(source, node)
                for alias in node.names:
                    full = f"{module}.{alias.name}"
                    targets.append(full if full in MODULES else module)
            for target in targets:
                if target in MODULES and target != source:
                    out.append(Edge(source, target, getattr(node, "lineno", 0)))
    return out


EDGES = edges()


def layer_rules() -> list[tuple[int, str, str]]:
    """(layer, pattern, name) from the ```layers block of DEVELOPERS.md."""
    text = (ROOT / "DEVELOPERS.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "DEVELOPERS.md has no ```layers block"
    rules = []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        number, name, *patterns = line.split()
        rules += [(int(number), pattern, name) for pattern in patterns]
    return rules


RULES = layer_rules()


def layer_of(module: str) -> tuple[int, str] | None:
    """The layer of the longest pattern that matches: `x` matches x and its submodules,
    `x.*` the submodules only, `narrowtune` the package's own __init__ only."""
    relative = module.removeprefix("narrowtune").removeprefix(".")
    best: tuple[int, int, str] | None = None
    for number, pattern, name in RULES:
        if pattern == "narrowtune":
            hit = relative == ""
        elif pattern.endswith(".*"):
            hit = relative.startswith(pattern[:-1])
        else:
            hit = relative == pattern or relative.startswith(pattern + ".")
        if hit and (best is None or len(pattern) > best[0]):
            best = (len(pattern), number, name)
    return None if best is None else (best[1], best[2])


def test_every_module_has_a_layer() -> None:
    orphans = [m for m in MODULES if layer_of(m) is None]
    assert not orphans, f"modules in no layer of DEVELOPERS.md: {orphans}"


def test_no_import_points_up_the_layers() -> None:
    upward = []
    for edge in EDGES:
        source, target = layer_of(edge.source), layer_of(edge.target)
        assert source and target
        if target[0] < source[0]:
            upward.append(
                f"{MODULES[edge.source].relative_to(ROOT)}:{edge.line}: {edge.source} "
                f"({source[1]}) imports {edge.target} ({target[1]})"
            )
    assert not upward, "imports that point up the layer list:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for edge in EDGES:
        graph[edge.source].add(edge.target)
    # Tarjan's strongly connected components; any component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_kinds_do_not_import_each_other() -> None:
    def kind_of(module: str) -> str | None:
        parts = module.split(".")
        return parts[2] if len(parts) >= 3 and parts[:2] == ["narrowtune", "kinds"] else None

    shared = {"base", "training", "lm"}  # not kinds: what the kinds share
    crossing = [
        f"{e.source} imports {e.target}"
        for e in EDGES
        if (a := kind_of(e.source)) not in (None, *shared)
        and (b := kind_of(e.target)) not in (None, *shared)
        and a != b
    ]
    assert not crossing, crossing


def _mentions_kind_names(node: ast.AST) -> list[str]:
    values = []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        values = [node.value]
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return [v for v in values if v in BUILTIN_KINDS]


def test_no_kind_name_is_compared_outside_kinds() -> None:
    found = []
    for module, path in MODULES.items():
        if module.startswith("narrowtune.kinds."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            operands: list[ast.AST] = []
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
            elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
                operands = [node.pattern.value]
            for operand in operands:
                for name in _mentions_kind_names(operand):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: compares '{name}'")  # type: ignore[attr-defined]
    assert not found, "ask the kinds registry instead:\n" + "\n".join(found)


def test_the_guards_see_what_they_guard() -> None:
    """The checks above would fail on the shapes they forbid (a guard that cannot fail is
    no guard)."""
    assert layer_of("narrowtune.kinds.classify.model") == (4, "kinds")
    assert layer_of("narrowtune.kinds")[0] > layer_of("narrowtune.kinds.classify")[0]  # type: ignore[index]
    assert layer_of("narrowtune.cli")[0] < layer_of("narrowtune.api")[0]  # type: ignore[index]
    compare = ast.parse("if task.kind == 'generate': pass").body[0].test  # type: ignore[attr-defined]
    assert _mentions_kind_names(compare.comparators[0]) == ["generate"]
    assert Edge("narrowtune.api", "narrowtune.kinds", 1) in EDGES or any(
        e.source == "narrowtune.api" and e.target.startswith("narrowtune.kinds") for e in EDGES
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import narrowtune.task as t; t.load_task('narrowtune/demo/task.yaml')",
        "import narrowtune.data.audit as a; import narrowtune.task as t; "
        "a.audit(t.load_task('narrowtune/demo/task.yaml'), fast=True)",
        "from narrowtune.kinds import all_kinds; [k.has_labels for k in all_kinds()]",
    ],
)
def test_light_imports_stay_light(statement: str) -> None:
    """Loading a task, auditing its data fast and asking the registry never import torch."""
    code = f"{statement}\nimport sys\nassert 'torch' not in sys.modules, 'torch was imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
