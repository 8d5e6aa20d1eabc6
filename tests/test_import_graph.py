"""hubbub.server has no import cycle, type-only imports included
(tools/import_graph.py; docs/architecture.md, "Layers")."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
assert _spec is not None and _spec.loader is not None
import_graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)


def test_the_server_package_has_no_import_cycle() -> None:
    edges = import_graph.graph(ROOT / "src" / "hubbub" / "server")
    assert "hubbub.server.session" in edges  # the graph really was read
    assert import_graph.cycles(edges) == []


def test_the_network_adapters_do_not_import_commands() -> None:
    edges = import_graph.graph(ROOT / "src" / "hubbub" / "server")
    for module in ("hubbub.server.net.connection", "hubbub.server.net.websocket"):
        assert not any(target.startswith("hubbub.server.commands") for target in edges[module])


def test_a_cycle_is_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_graph.cycles(edges) == [["a", "b", "c"]]
