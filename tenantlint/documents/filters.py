"""Is a document filter scoped to the tenant?

MongoDB filter documents and aggregation pipelines, and Elasticsearch / OpenSearch query
bodies, read from the stdlib `ast` of the call's argument (names bound to a dict or list
literal in the same scope are followed through `resolve`):

* a Mongo filter is scoped when a top-level key (or one under `$and`) is a tenant field
  equated to a value (`{"tenant_id": t}`, `{"tenant_id": {"$eq": t}}`, `{"tenant_id":
  {"$in": ids}}`); under `$or`/`$nor`, or with `$ne`/`$nin`/`$exists`/`$not`, the field is
  weakened (an `$or` whose every branch is scoped is scoped);
* an aggregation is judged by its first stage: `$match` (a filter), `$vectorSearch` (its
  `filter`: a vector query, TL402), `$geoNear` (its `query`); any other first stage reads
  every document;
* an Elasticsearch query is scoped by a `term`/`terms`/`match` on the tenant field as the
  whole query, or among a `bool` query's `filter`/`must` clauses (also nested bools and
  `constant_score`); in `should` the field is weakened;
* a filter passed opaquely (a parameter, a call, `dict(query)`, `{**base}`) is OPAQUE
  (TL002) unless its expression itself names the tenant (`tenant_filter(tid)`).
"""
from __future__ import annotations

import ast
from enum import IntEnum
from typing import Callable

from tenantlint.stores.dicts import literal
from tenantlint.stores.tenancy import Alternatives, Tenancy

_MAX_DEPTH = 12
_EQUAL = {"$eq", "$in", "$all"}
_WEAKENING_OPS = {"$ne", "$nin", "$exists", "$not", "$regex", "$type", "$gt", "$gte", "$lt", "$lte"}
_ES_LEAVES = {"term", "terms", "match", "match_phrase"}


class Verdict(IntEnum):
    """Ordered from best to worst: a union of paths takes the worst."""

    SCOPED = 0
    OPAQUE = 1
    WEAKENED = 2
    UNSCOPED = 3


Resolve = Callable[[ast.AST], object]


class FilterJudge:
    def __init__(self, tenancy: Tenancy, resolve: Resolve) -> None:
        self.tenancy = tenancy
        self.resolve = resolve  # a Name -> what it is bound to (an expr, Alternatives) or None

    def is_tenant_field(self, name: str) -> bool:
        field = name.rsplit(".", 1)[-1] if not name.endswith(".keyword") else name[:-8].rsplit(".", 1)[-1]
        return self.tenancy.word_is_tenant(field)

    def _follow(self, node, depth: int):
        for _ in range(_MAX_DEPTH):
            if isinstance(node, ast.Name):
                bound = self.resolve(node)
                if bound is None:
                    return node
                node = bound
            else:
                break
        return node

    def _opaque(self, node) -> Verdict:
        """A value the reader cannot see into: scoped only when it names the tenant."""
        return Verdict.SCOPED if isinstance(node, ast.AST) and self.tenancy.key_scoped(node) else Verdict.OPAQUE

    def _paths(self, node, judge, depth: int) -> Verdict:
        node = self._follow(node, depth)
        if isinstance(node, Alternatives):
            return max((self._paths(v, judge, depth + 1) for v in node.values), default=Verdict.OPAQUE)
        if depth > _MAX_DEPTH or not isinstance(node, ast.AST):
            return Verdict.OPAQUE
        return judge(node, depth)

    # -- MongoDB ---------------------------------------------------------------------
    def mongo(self, node: ast.AST | None, depth: int = 0) -> Verdict:
        if node is None:
            return Verdict.UNSCOPED
        return self._paths(node, self._mongo, depth)

    def _mongo(self, node: ast.AST, depth: int) -> Verdict:
        items = _items(node)
        if items is None:
            return self._opaque(node)
        verdicts = []
        for key, value in items:
            if key is None:  # `**base` / dict(base)
                verdicts.append(self.mongo(value, depth + 1))
                continue
            if key == "$and":
                verdicts.append(min((self.mongo(el, depth + 1) for el in _elements(self._follow(value, depth))),
                                    default=Verdict.UNSCOPED))
            elif key in ("$or", "$nor"):
                branches = [self.mongo(el, depth + 1) for el in _elements(self._follow(value, depth))]
                if key == "$or" and branches and all(b == Verdict.SCOPED for b in branches):
                    verdicts.append(Verdict.SCOPED)
                elif self._mentions(value):
                    verdicts.append(Verdict.WEAKENED)
            elif self.is_tenant_field(key):
                verdicts.append(self._mongo_value(value, depth))
        return min(verdicts, default=Verdict.UNSCOPED)

    def _mongo_value(self, value: ast.AST, depth: int) -> Verdict:
        value = self._follow(value, depth)
        items = _items(value) if isinstance(value, ast.Dict) else None
        if items and all(isinstance(k, str) and k.startswith("$") for k, _ in items):
            ops = {k for k, _ in items}
            return Verdict.SCOPED if ops & _EQUAL and not ops & _WEAKENING_OPS else Verdict.WEAKENED
        return Verdict.SCOPED

    def _mentions(self, node) -> bool:
        """Whether a tenant field appears anywhere in a filter (for weakening, discovery)."""
        node = self._follow(node, 0)
        if isinstance(node, Alternatives):
            return any(self._mentions(v) for v in node.values)
        if not isinstance(node, ast.AST):
            return False
        for sub in ast.walk(node):  # dict keys, `dict(...)` keywords, `"$field"` references: not values
            if isinstance(sub, ast.Dict):
                if any(isinstance(literal(k), str) and self.is_tenant_field(literal(k)) for k in sub.keys):
                    return True
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.startswith("$"):
                if self.is_tenant_field(sub.value[1:]):
                    return True
            elif isinstance(sub, ast.keyword) and sub.arg and self.is_tenant_field(sub.arg):
                return True
        return False

    def mentions(self, node) -> bool:
        return node is not None and self._mentions(node)

    # -- aggregation pipelines -----------------------------------------------------------
    def pipeline(self, node: ast.AST | None) -> tuple[Verdict, bool]:
        """(verdict, whether the first stage is a `$vectorSearch`)."""
        if node is None:
            return Verdict.UNSCOPED, False
        node = self._follow(node, 0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            node = self._follow(node.left, 0)
        if not isinstance(node, (ast.List, ast.Tuple)):
            return self._opaque(node), False
        if not node.elts:
            return Verdict.UNSCOPED, False
        first = self._follow(node.elts[0], 0)
        if isinstance(first, ast.Starred):
            return self._opaque(first.value), False
        items = _items(first)
        if not items:
            return self._opaque(first), False
        stage, body = items[0]
        if stage == "$match":
            return self.mongo(body), False
        if stage in ("$vectorSearch", "$geoNear"):
            inner = _items(self._follow(body, 0)) or []
            wanted = "filter" if stage == "$vectorSearch" else "query"
            found = next((v for k, v in inner if k == wanted), None)
            return self.mongo(found), stage == "$vectorSearch"
        if stage is None:
            return self._opaque(body), False
        return Verdict.UNSCOPED, False

    # -- Elasticsearch / OpenSearch ---------------------------------------------------------
    def elastic(self, node: ast.AST | None, depth: int = 0) -> Verdict:
        if node is None:
            return Verdict.UNSCOPED
        return self._paths(node, self._elastic, depth)

    def _elastic(self, node: ast.AST, depth: int) -> Verdict:
        items = _items(node)
        if items is None:
            return self._opaque(node)
        verdicts = []
        for key, value in items:
            if key is None:
                verdicts.append(self.elastic(value, depth + 1))
            elif key in _ES_LEAVES:
                fields = _items(self._follow(value, depth)) or []
                if any(isinstance(f, str) and self.is_tenant_field(f) for f, _ in fields):
                    verdicts.append(Verdict.SCOPED)
            elif key == "constant_score":
                inner = dict((k, v) for k, v in _items(self._follow(value, depth)) or [] if k)
                verdicts.append(self.elastic(inner.get("filter"), depth + 1))
            elif key == "bool":
                verdicts.append(self._bool(self._follow(value, depth), depth))
        return min(verdicts, default=Verdict.UNSCOPED)

    def _bool(self, node: ast.AST, depth: int) -> Verdict:
        items = _items(node)
        if items is None:
            return self._opaque(node)
        verdicts = []
        for key, value in items:
            clauses = _elements(self._follow(value, depth))
            if key in ("filter", "must") or key is None:
                verdicts.extend(self.elastic(c, depth + 1) for c in clauses)
            elif key == "should" and self._mentions(value):
                verdicts.append(Verdict.WEAKENED)
        return min(verdicts, default=Verdict.UNSCOPED)


def _items(node) -> list[tuple[str | None, ast.AST]] | None:
    """(key, value) of a dict display or a `dict(...)` call; None for anything else. A
    `**spread` or a positional argument to `dict` has key None; a computed key is "?"."""
    if isinstance(node, ast.Dict):
        out = []
        for key, value in zip(node.keys, node.values):
            if key is None:
                out.append((None, value))
            else:
                text = literal(key)
                out.append((text if isinstance(text, str) else "?", value))
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        out = [(None, arg) for arg in node.args]
        out += [(kw.arg, kw.value) for kw in node.keywords]
        return out
    return None


def _elements(node) -> list:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [el.value if isinstance(el, ast.Starred) else el for el in node.elts]
    return [node]
