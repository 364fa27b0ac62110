"""Is a Cypher query tied to the tenant? (TL406, on what `cypher.py` reads.)

A node pattern that a query reads, merges or deletes (`MATCH`, `OPTIONAL MATCH`, `MERGE`,
and nodes yielded by an index procedure) is anchored when:

* its property map equates a tenant property to a value (`{user_id: $uid}`, a literal, an
  `UNWIND` row's field, an interpolated value), or
* a top-level `WHERE` conjunct does (`n.user_id = $uid`, `n.user_id IN $ids`), or equates
  it to the tenant property of an anchored node (`n.user_id = m.user_id`), or
* it is tied by a relationship to an anchored node (as TL104 for SQL joins), or reached
  through a relationship that carries the tenant property itself (`-[e {group_id: $g}]->`,
  `WHERE e.group_id = $g`), or it is the same variable as an anchored node of another pattern.

Only nodes that may carry a tenant label need anchoring: a label the catalog knows as a
tenant one, an unknown (interpolated) label, or no label at all when the project has any
tenant label. `CREATE` makes new nodes (what they are written with is discovery's concern).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tenantlint.documents.cypher import HOLE, Node, Part

_READS = {"MATCH", "OPTIONAL MATCH", "MERGE", "CALL"}


@dataclass
class GraphVerdict:
    unanchored: list[Node] = field(default_factory=list)
    weakened: bool = False  # a tenant property appears only under OR/NOT/<>/IS NULL
    holes: bool = False  # interpolated text where a predicate could be
    certain: bool = False  # some unanchored node owes nothing to interpolated text


def _labels(part: Part, node: Node) -> set[str]:
    labels = set(node.labels)
    if node.var:
        labels |= part.where_labels.get(node.var, set())
        for other in part.nodes:
            if other.var == node.var:
                labels |= set(other.labels)
    return labels


def _needs_anchor(labels: set[str], tenant_labels: frozenset[str], any_tenant_label: bool) -> bool:
    if not labels:
        return any_tenant_label
    return any(HOLE.fullmatch(label) or label.lower() in tenant_labels for label in labels)


def judge(parts: list[Part], is_tenant_prop, tenant_labels: frozenset[str],
          tenant_holes: frozenset[str] = frozenset()) -> GraphVerdict:
    """`tenant_labels`: lowercased. `is_tenant_prop(name)`: whether a property is the tenant's.
    `tenant_holes`: the markers of interpolated pieces that name the tenant: a node whose
    label is one (`MATCH (n:`{workspace}`)`, a label per tenant) is scoped by construction."""
    verdict = GraphVerdict()
    for part in parts:
        _judge_part(part, is_tenant_prop, tenant_labels, tenant_holes, verdict)
    return verdict


def _judge_part(part: Part, is_tenant_prop, tenant_labels: frozenset[str], tenant_holes: frozenset[str],
                verdict: GraphVerdict) -> None:
    node_vars = {n.var for n in part.nodes if n.var} | {r.var for r in part.relationships if r.var}
    anchored_vars: set[str] = set()
    anchored: set[int] = set()

    def value_anchors(value) -> bool | str:
        """True, False, or the node variable whose tenant property it is (a tie)."""
        if value.kind == "null":
            return False
        if value.kind == "prop" and value.var in node_vars:
            return value.var if is_tenant_prop(value.prop) else False
        return True

    introduced = _introductions(part)
    ties: list[tuple[str, str]] = []
    for index, node in enumerate(part.nodes):
        if tenant_holes.intersection(_labels(part, node)):
            anchored.add(index)
        for prop, value in node.props.items():
            if is_tenant_prop(prop):
                found = value_anchors(value)
                if found is True:
                    anchored.add(index)
                elif found and node.var:
                    ties.append((node.var, found))
    for var, prop, _op, value in part.conjuncts:
        if not is_tenant_prop(prop):
            continue
        found = value_anchors(value)
        if found is True:
            anchored_vars.add(var)
        elif found:
            ties.append((var, found))
    changed = True
    while changed:
        changed = False
        for index, node in enumerate(part.nodes):
            if index not in anchored and node.var and node.var in anchored_vars:
                anchored.add(index)
                changed = True
            if index in anchored and node.var and node.var not in anchored_vars:
                anchored_vars.add(node.var)
                changed = True
        for a, b in part.links:
            # a relationship narrows a node only where the pattern introduces it: `MATCH (b)
            # ... MERGE (a)-[:R]->(b)` does not scope the earlier match of `b`
            for src, dst in ((a, b), (b, a)):
                if src in anchored and dst not in anchored and dst in introduced:
                    anchored.add(dst)
                    changed = True
        for rel in part.relationships:
            # a relationship that carries the tenant property (graphiti's edges carry
            # group_id) scopes the nodes its pattern reaches through it
            if rel.var in anchored_vars or any(is_tenant_prop(p) and value_anchors(v) is True
                                               for p, v in rel.props.items()):
                for end in (rel.left, rel.right):
                    if end not in anchored and end in introduced:
                        anchored.add(end)
                        changed = True
        for a, b in ties:
            if (a in anchored_vars) != (b in anchored_vars):
                anchored_vars.update((a, b))
                changed = True
    any_tenant_label = bool(tenant_labels)
    for index, node in enumerate(part.nodes):
        if index in anchored or node.clause not in _READS:
            continue
        if node.var and node.var in anchored_vars:
            continue
        labels = _labels(part, node)
        if not _needs_anchor(labels, tenant_labels, any_tenant_label):
            continue
        if node.var and any(other.var == node.var and other.clause == "CREATE" and part.nodes.index(other) < index
                            for other in part.nodes):
            continue  # created earlier in this query: a new node, not a read
        if node.var and any(other.var == node.var for other in verdict.unanchored):
            continue
        verdict.unanchored.append(node)
        guessed = bool(labels) and not any(label.lower() in tenant_labels for label in labels) \
            or node.opaque_props  # `MERGE (n:Entity $props)`: the map passed in may hold the tenant
        # an interpolated label may be a tenant one; an interpolated predicate may scope it
        verdict.holes = verdict.holes or guessed or part.holes
        verdict.certain = verdict.certain or not (guessed or part.holes)
    if verdict.unanchored:
        verdict.weakened = verdict.weakened or any(is_tenant_prop(prop) for _v, prop in part.weakened)


def _introductions(part: Part) -> set[int]:
    """The node occurrences that introduce their variable (or have none)."""
    seen: set[str] = set()
    out: set[int] = set()
    for index, node in enumerate(part.nodes):
        if not node.var or node.var not in seen:
            out.add(index)
        if node.var:
            seen.add(node.var)
    return out


def tenant_labels(parts: list[Part], is_tenant_prop) -> set[str]:
    """Labels of nodes written or filtered with a tenant property (for discovery)."""
    out: set[str] = set()
    for part in parts:
        tenant_vars = {var for var, prop, _op, _v in part.conjuncts if is_tenant_prop(prop)}
        tenant_vars |= {var for var, prop in part.weakened if is_tenant_prop(prop)}
        for node in part.nodes:
            if any(is_tenant_prop(p) for p in node.props) or (node.var and node.var in tenant_vars):
                out.update(label for label in _labels(part, node) if not HOLE.fullmatch(label))
    return out
