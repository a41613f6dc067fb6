"""The layers show in the imports: each package imports only its own layer and the ones below it.

Read from the source, every import counts (inside functions too): from the bottom, the pure
transformer, the rest of `destinations` (models, admin, Customer.io's HTTP edge, warehouse sources),
the delivery log's models, the engine, ingestion, warehouse syncs (which store through ingestion), the
log's admin pages and the Celery tasks, and on top the project shell that wires them together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cio_project", "destinations", "delivery")
# Lowest first; a module belongs to the longest entry it is or lies under. At the bottom, the project's
# foundation: settings, the Celery app, the version, secret redaction; at the top, the modules that
# wire everything together (URLs, the admin site, health, WSGI).
LAYERS = [
    ("cio_project",),
    ("destinations.customerio",),
    ("destinations",),
    ("delivery.models", "delivery.redis_client"),
    ("delivery.engine",),
    # The ways in: events from SDKs and warehouses, message activity from Customer.io's webhooks.
    ("delivery.ingestion", "delivery.webhooks"),
    ("delivery.warehouse",),
    ("delivery.admin", "delivery.tasks", "delivery.apps", "delivery"),
    (
        "cio_project.urls",
        "cio_project.admin_site",
        "cio_project.apps",
        "cio_project.health",
        "cio_project.metrics_view",
        "cio_project.wsgi",
        "cio_project.asgi",
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports(name: str, path: Path) -> Iterator[str]:
    """The project modules `name` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def project_imports() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imports(name, path) if target in known and target != name}
        for name, path in known.items()
    }


def layer(name: str) -> int:
    best, found = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{name} is in no layer"
    return found


def test_every_module_has_a_layer_and_imports_nothing_above_it():
    graph = project_imports()
    assert len(graph) > 80, "the source was not found"
    upward = [
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name, targets in graph.items()
        for target in targets
        if layer(target) > layer(name)
    ]
    assert upward == []


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("destinations", "delivery"),
        ("destinations.customerio", "destinations.models"),
        ("delivery.engine", "delivery.ingestion"),
        ("delivery.engine", "delivery.admin"),
        ("delivery.ingestion", "delivery.admin"),
        ("delivery.webhooks", "delivery.admin"),
        ("delivery.engine", "delivery.webhooks"),
    ],
)
def test_named_arrows_never_point_up(lower, higher):
    graph = project_imports()
    offending = [
        (name, target)
        for name, targets in graph.items()
        if name == lower or name.startswith(lower + ".")
        for target in targets
        if target == higher or target.startswith(higher + ".")
    ]
    assert offending == []


def test_the_transformer_is_pure():
    # DESIGN.md invariant 8: no Django and no I/O in destinations/customerio
    graph = {name: path for name, path in modules().items() if name.startswith("destinations.customerio")}
    allowed_outside = {"__future__"}
    for name, path in graph.items():
        if name == "destinations.customerio.cli":
            continue  # the management command's reader of JSON lines: stdin in, stdout out
        for target in imports(name, path):
            top = target.split(".")[0]
            assert top not in {"django", "requests", "rest_framework", "celery", "redis", "delivery"}, (
                f"{name} imports {target}"
            )
            assert target.startswith("destinations.customerio") or top in allowed_outside or _stdlib(top), (
                f"{name} imports {target}"
            )


def _stdlib(top: str) -> bool:
    import sys

    return top in sys.stdlib_module_names


def test_the_import_graph_has_no_cycle():
    graph = project_imports()
    # A package's __init__ re-exporting its own modules is not a cycle of ideas: only arrows between
    # modules that are not each other's package count.
    edges = {
        name: {target for target in targets if not name.startswith(target + ".")}
        for name, targets in graph.items()
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
