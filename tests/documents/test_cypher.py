"""The Cypher reader and the TL406 judgement, table-driven."""
from __future__ import annotations

import pytest

from tenantlint.documents import cypher
from tenantlint.documents.graph import judge, tenant_labels


def _tenant(prop: str) -> bool:
    return prop.lower() in ("user_id", "tenant_id")


LABELS = frozenset({"entity", "episode"})


def unanchored(text: str, labels=LABELS, holes=frozenset()) -> list[str]:
    verdict = judge(cypher.read(text), _tenant, labels, holes)
    return [n.var or ":".join(n.labels) or "()" for n in verdict.unanchored]


@pytest.mark.parametrize("text, expected", [
    # property maps
    ("MATCH (n:Entity {user_id: $uid}) RETURN n", []),
    ("MATCH (n:Entity {name: $name}) RETURN n", ["n"]),
    ("MERGE (n:Entity {name: $n, user_id: 'acme'})", []),
    ("MERGE (n:Entity {name: $n, user_id: null})", ["n"]),
    # WHERE conjuncts
    ("MATCH (n:Entity) WHERE n.user_id = $uid RETURN n", []),
    ("MATCH (n:Entity) WHERE $uid = n.user_id AND n.name = $x RETURN n", []),
    ("MATCH (n:Entity) WHERE n.user_id IN $uids RETURN n", []),
    ("MATCH (n:Entity) WHERE (n.user_id = $uid AND n.x = 1) RETURN n", []),
    ("MATCH (n:Entity) WHERE n.user_id = $uid OR n.public RETURN n", ["n"]),
    ("MATCH (n:Entity) WHERE NOT n.user_id = $uid RETURN n", ["n"]),
    ("MATCH (n:Entity) WHERE n.user_id <> $uid RETURN n", ["n"]),
    ("MATCH (n:Entity) WHERE n.user_id IS NOT NULL RETURN n", ["n"]),
    ("MATCH (n:Entity) WHERE n.name STARTS WITH $p AND n.user_id = $u RETURN n", []),
    # relationships tie nodes to an anchored one (in the pattern that introduces them)
    ("MATCH (a:Entity {user_id: $u})-[:R]->(b:Entity) RETURN b", []),
    ("MATCH (a:Entity {user_id: $u})<-[:R]-(b:Entity)-[:S]->(c:Entity) RETURN c", []),
    ("MATCH (a:Entity {user_id: $u}), (b:Entity) RETURN b", ["b"]),
    ("MATCH (a:Entity {user_id: $u}) MATCH (b:Entity {name: $n}) MERGE (a)-[:R]->(b)", ["b"]),
    ("MATCH (a:Entity {user_id: $u}) MERGE (a)-[:R]->(b:Entity {name: $n})", []),
    # relationships that carry the tenant property
    ("MATCH (n:Entity)-[e:RELATES_TO]->(m:Entity) WHERE e.user_id IN $uids RETURN n, m", []),
    ("MATCH (n:Entity)-[e:RELATES_TO {user_id: $u}]->(m:Entity) RETURN n, m", []),
    ("MATCH (n:Entity)-[e:RELATES_TO {name: $x}]->(m:Entity) RETURN n, m", ["n", "m"]),
    # ties between nodes through the tenant property
    ("MATCH (a:Entity), (b:Entity) WHERE a.user_id = $u AND b.user_id = a.user_id RETURN b", []),
    ("MATCH (a:Entity), (b:Entity) WHERE b.user_id = a.user_id RETURN b", ["a", "b"]),
    # the same variable anchored elsewhere
    ("MATCH (n:Entity {user_id: $u}) WITH n MATCH (n)-[:R]->(m) RETURN m", []),
    ("MATCH (n:Entity) WITH n, n.score AS s WHERE n.user_id = $u RETURN n", []),
    # labels: unknown ones, none, global ones
    ("MATCH (c:Country) RETURN c", []),
    ("MATCH (n) DETACH DELETE n", ["n"]),
    ("MATCH (n {user_id: $u}) DETACH DELETE n", []),
    ("MATCH (n) WHERE n:Entity RETURN n", ["n"]),
    # CREATE makes new nodes; UNWIND rows are values
    ("CREATE (n:Entity {name: $n})", []),
    ("UNWIND $rows AS row MERGE (n:Entity {name: row.name, user_id: row.user_id})", []),
    # UNION branches, OPTIONAL MATCH, CALL subqueries
    ("MATCH (a:Entity {user_id: $u}) RETURN a UNION MATCH (b:Episode) RETURN b", ["b"]),
    ("MATCH (a:Entity {user_id: $u}) OPTIONAL MATCH (a)-[:R]-(b:Episode) RETURN b", []),
    ("MATCH (a:Entity {user_id: $u}) CALL { WITH a MATCH (x:Episode) RETURN x } RETURN x", ["x"]),
    # index procedures
    ("CALL db.index.vector.queryNodes('i', 5, $v) YIELD node, score RETURN node", ["node"]),
    ("CALL db.index.vector.queryNodes('i', 5, $v) YIELD node AS n, score WHERE n.user_id = $u RETURN n", []),
    ("CALL db.labels() YIELD label RETURN label", []),
    # comments and quoting
    ("MATCH (n:`Entity` {`user_id`: $u}) // a comment\nRETURN n", []),
    ("MATCH (n:Entity) /* user_id = $u */ RETURN n", ["n"]),
])
def test_anchoring(text, expected):
    assert unanchored(text) == expected


def test_no_tenant_labels_means_unlabeled_nodes_are_not_judged():
    assert unanchored("MATCH (n) RETURN n", labels=frozenset()) == []
    assert unanchored("MATCH (n:Entity) RETURN n", labels=frozenset()) == []


def test_interpolated_labels():
    parts = cypher.read("MATCH (n:__tlhole0__) WHERE n.name = $x RETURN n")
    assert judge(parts, _tenant, LABELS).unanchored  # an unknown label may be a tenant one
    assert not judge(parts, _tenant, LABELS, frozenset({"__tlhole0__"})).unanchored  # a label per tenant
    where = cypher.read("CALL db.index.fulltext.queryNodes($i, $q) YIELD node, score "
                        "WITH node, score WHERE node:__tlhole0__ RETURN node")
    assert not judge(where, _tenant, LABELS, frozenset({"__tlhole0__"})).unanchored


def test_weakened_and_holes_are_reported():
    verdict = judge(cypher.read("MATCH (n:Entity) WHERE n.user_id = $u OR n.shared RETURN n"), _tenant, LABELS)
    assert verdict.weakened
    verdict = judge(cypher.read("MATCH (n:Entity) WHERE __tlhole0__ RETURN n"), _tenant, LABELS)
    assert verdict.holes and not verdict.weakened
    verdict = judge(cypher.read("MATCH (n:Entity) RETURN __tlhole0__"), _tenant, LABELS)
    assert verdict.unanchored and verdict.certain  # a RETURN list cannot scope anything
    verdict = judge(cypher.read("MATCH (a:__tlhole0__), (b:Entity) RETURN a, b"), _tenant, LABELS)
    assert verdict.certain  # `b` is unanchored whatever the label of `a` is


@pytest.mark.parametrize("text", [
    "MATCH (n:Entity {user_id: $u) RETURN n",
    "MATCH (n:Entity RETURN n",
    "hello world",
    "MATCH (n) RETURN n ]",
])
def test_unreadable_text_raises(text):
    with pytest.raises(cypher.CypherError):
        cypher.read(text)


def test_reader_shapes():
    (part,) = cypher.read("MATCH p = shortestPath((a:A:B {k: 1})-[*..3]-(b:C|D)) WHERE a.x = b.y RETURN p")
    assert [(n.var, n.labels) for n in part.nodes] == [("a", ("A", "B")), ("b", ("C", "D"))]
    assert part.links == [(0, 1)]
    assert ("a", "x", "=", cypher.Value("prop", "b", "y")) in part.conjuncts
    (part,) = cypher.read("MERGE (n:E {id: $id}) ON CREATE SET n.created = timestamp() ON MATCH SET n.seen = 1")
    assert [n.clause for n in part.nodes] == ["MERGE"]
    (part,) = cypher.read("MATCH (n:E $props) RETURN n")
    assert part.nodes[0].opaque_props
    verdict = judge(cypher.read("MERGE (n:Entity $props) RETURN n"), _tenant, LABELS)
    assert verdict.unanchored and not verdict.certain  # the map passed in may hold the tenant


def test_discovered_labels():
    parts = cypher.read("MERGE (a:Entity {user_id: $u}) WITH a MATCH (b:Episode) WHERE b.user_id = $u "
                        "MATCH (c:Country) RETURN a, b, c")
    assert tenant_labels(parts, _tenant) == {"Entity", "Episode"}


def test_random_token_soup_never_crashes():
    """Whatever the text, the reader answers or raises CypherError."""
    import random

    words = ["MATCH", "(", ")", "[", "]", "{", "}", ":", "n", "e", "Entity", ",", "-", ">", "<", "WHERE",
             "n.user_id", "=", "$u", "AND", "OR", "RETURN", "MERGE", "WITH", "CALL", "YIELD", "node", "UNION",
             "'x'", "|", "AS", "IS", "NOT", "NULL", "null", ".", "*", "__tlhole0__", "UNWIND", "DETACH", "DELETE"]
    rng = random.Random(7)
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
        try:
            parts = cypher.read(text)
        except cypher.CypherError:
            continue
        judge(parts, _tenant, LABELS, frozenset({"__tlhole0__"}))
        tenant_labels(parts, _tenant)
