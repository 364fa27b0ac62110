"""The document, graph and wipe fields of the packs load, and malformed ones fail closed."""
from __future__ import annotations

import pytest

from tenantlint.packs import PackError, _builtin, build_api_catalog


def test_document_and_graph_packs_load():
    catalog = build_api_catalog(_builtin())
    find = catalog.calls_on("mongo-collection", "find")[0]
    assert find.role == "document-query" and find.filter[0].position == 0
    assert catalog.calls_on("mongo-collection", "aggregate")[0].pipeline is not None
    search = catalog.calls_on("es-client", "search")[0]
    assert search.dialect == "elasticsearch" and search.collection.keyword == "index"
    assert catalog.calls_on("neo4j-tx", "run")[0].cypher.keyword == "query"
    assert catalog.kinds["neo4j-session"].callbacks["execute_write"] == "neo4j-tx"
    assert catalog.kinds["mongo-db"].attributes["*"] == "mongo-collection"
    assert catalog.kinds["mongo-db"].methods["get_collection"][0].name.keyword == "name"
    assert {s.role for s in catalog.calls_on("redis", "flushdb")} == {"wipe"}


@pytest.mark.parametrize("call, message", [
    ({"role": "graph"}, "cypher"),
    ({"role": "document-query", "dialect": "sql"}, "dialect"),
])
def test_bad_call_fields(call, message):
    with pytest.raises(PackError, match=message):
        build_api_catalog([("broken", {"kinds": {"k": {}}, "calls": [{"on": ["k"], "methods": ["m"], **call}]})])


def test_callbacks_name_known_kinds():
    with pytest.raises(PackError, match="unknown kind"):
        build_api_catalog([("broken", {"kinds": {"k": {"callbacks": {"execute_write": "missing"}}}})])
