"""The floors of the house, from the bottom: schemas <- kafkaio <- (ingest | processors core) <-
processors.worker <- alertpipe (CLI, operator jobs, local broker) <- bench. No import, at
module level or inside a function, runs back up, and the two deployables on floor 2 import
each other only where listed below."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "kafkaio", "ingest", "processors", "alertpipe", "bench")

# Sideways imports on floor 2, each with its reason.
ALLOWED_SIDEWAYS = {
    # The ingress compiles the mapping files at start, so a bad one stops it with file and line
    # instead of dead-lettering every body in the worker.
    ("ingest.server", "processors.validate"),
}


def floor(module: str) -> int:
    root = module.split(".")[0]
    if module == "processors.worker" or module.startswith("processors.worker."):
        return 3
    return {"schemas": 0, "kafkaio": 1, "ingest": 2, "processors": 2, "alertpipe": 4}.get(root, 5)


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, typing_only: bool = True) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of a first-party package in ``path``; without
    ``typing_only``, not those under ``if TYPE_CHECKING:``."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    if not typing_only:
        for block in ast.walk(tree):
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
                block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] in PACKAGES]


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def allowed(importer: str, imported: str) -> bool:
    """Down, or within one package of a floor, or a listed sideways import."""
    if floor(imported) != floor(importer):
        return floor(imported) < floor(importer)
    same_package = importer.split(".")[0] == imported.split(".")[0]
    return same_package or (importer, imported) in ALLOWED_SIDEWAYS


def violations() -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: {module_of(path)} imports {imported}"
        for path in sources()
        for line, imported in imports_of(path)
        if not allowed(module_of(path), imported)
    ]


def test_no_import_runs_up_the_floors() -> None:
    assert len(sources()) > 100  # the walk found the packages
    assert violations() == []


@pytest.mark.parametrize(
    ("importer", "imported", "expected"),
    [
        ("processors.pipeline", "alertpipe.settings", False),
        ("processors.pipeline", "processors.worker.run", False),
        ("kafkaio.topics", "processors.worker.run", False),
        ("ingest.app", "processors.pipeline", False),
        ("processors.worker.run", "kafkaio.settings", True),
        ("alertpipe.cli.worker", "processors.worker.run", True),
        ("bench.run", "alertpipe.jobs.replay", True),
        ("ingest.server", "processors.validate", True),
        ("processors.worker.topology", "processors.pipeline", True),
    ],
)
def test_the_floor_rule_itself(importer: str, imported: str, expected: bool) -> None:
    assert allowed(importer, imported) is expected


def module_imports() -> dict[str, set[str]]:
    """Each module's imports of first-party modules (those that are files of the packages),
    at run time (a type-only import cannot make a cycle)."""
    modules = {module_of(path): path for path in sources()}
    return {
        name: {i for _, i in imports_of(path, False) if i in modules and i != name}
        for name, path in modules.items()
    }


def test_no_import_cycle() -> None:
    """A cycle (bench once had stage1 <-> worker, one side inside a function) means two
    modules are one concept."""
    graph = module_imports()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = (*path[path.index(name) :], name)
            raise AssertionError(" -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph.get(name, ())):
            visit(imported, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
