"""Does an expression carry a tenant component?

Two questions, as the contract puts them:

* a **key** (cache key, object key, namespace, `with_tenant(...)` argument) has one when it
  interpolates or concatenates a *name* that is a tenant column or contains `tenant`
  (`tenant_id`, `request.tenant.id`, `self.tenant_id`), is built by a call whose name says
  so (`tenant_key(...)`), or starts with a `global-key-prefixes` entry. String text never
  counts (`f"tenant:{user_id}"` has none). Local variables are judged by their value, bare
  parameters by their own name.
* a **filter** or **metadata** (vector-store `filter=`, `where=`, `metadatas=`, payloads)
  has one when a *field* it names is a tenant column or contains `tenant`: a dict key, a
  string (`FieldCondition(key="tenant_id")`, Milvus `"tenant_id == 'a'"`), a keyword
  (`dict(tenant_id=...)`), a condition built by a call or passed as a variable whose name
  says tenant. A value that merely is the tenant (`{"user_id": tenant_id}`) is not a field.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable

from tenantlint.names import dotted
from tenantlint.sql.recover import RecoveryLookups, recover

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_DEPTH = 12
# keyword arguments that carry a value to match, not a field or condition
_VALUE_KEYWORDS = {"value", "values", "any", "eq", "ne", "gt", "gte", "lt", "lte", "text", "except_", "match"}

# The value of a name bound from a store's own listing (`for key in r.scan_iter(...)`): the
# listing call is judged itself, so the keys it yields are not reported again.
FROM_STORE = object()

Lookup = Callable[[str], "ast.expr | None"]


@dataclass(frozen=True)
class Alternatives:
    """A name bound to different values on different paths (`if flag: key = a else: key =
    b`): it has a tenant component only if every value that can reach the use has one."""

    values: tuple


class Tenancy:
    def __init__(self, tenant_columns, global_prefixes, lookup: Lookup, code: Callable[[ast.AST], str]):
        self.columns = {c.lower() for c in tenant_columns}
        self.relations = {c[:-3] for c in self.columns if c.endswith("_id") and len(c) > 3}
        self.prefixes = tuple(p for p in global_prefixes if p)
        self.lookup = lookup
        self.code = code

    # -- names ------------------------------------------------------------------------
    def word_is_tenant(self, word: str) -> bool:
        lowered = word.lower()
        return "tenant" in lowered or lowered in self.columns or lowered in self.relations

    def text_names_tenant(self, value: str) -> bool:
        return any(self.word_is_tenant(w) for w in _WORD.findall(value))

    # -- keys -------------------------------------------------------------------------
    def key_scoped(self, node: ast.AST | None) -> bool:
        return node is not None and (self.is_global(node) or self._key(node, 0))

    def is_global(self, node: ast.AST) -> bool:
        if not self.prefixes or not isinstance(node, ast.expr):
            return False
        env = RecoveryLookups(lookup=self._recover_lookup, code=self.code)
        try:
            folded = recover(node, env)
        except RecursionError:  # pragma: no cover - absurdly deep expressions
            return False
        if folded is None or not folded.pieces or not isinstance(folded.pieces[0], str):
            return False
        head = "".join(p for p in folded.pieces[:1])
        return head.startswith(self.prefixes)

    def _recover_lookup(self, name: str, _depth=[0]):  # noqa: B006 - recursion guard
        bound = self.lookup(name)
        if bound is None or _depth[0] > _MAX_DEPTH:
            return None
        _depth[0] += 1
        try:
            return recover(bound, RecoveryLookups(lookup=self._recover_lookup, code=self.code)) if isinstance(
                bound, ast.expr) else None
        finally:
            _depth[0] -= 1

    def _key(self, node: ast.AST, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if node is FROM_STORE:
            return True
        step = depth + 1
        if isinstance(node, Alternatives):
            return all(self._key(value, step) for value in node.values)
        if isinstance(node, ast.Name):
            bound = self.lookup(node.id)
            if bound is not None:
                return self._key(bound, step)
            return self.word_is_tenant(node.id)
        if isinstance(node, ast.Attribute):
            return self.word_is_tenant(node.attr) or self._key(node.value, step)
        if isinstance(node, ast.Call):
            if any(kw.arg is not None and self.word_is_tenant(kw.arg) for kw in node.keywords):
                return True
            return self._key(node.func, step) or any(self._key(a, step) for a in _call_values(node))
        if isinstance(node, ast.JoinedStr):
            return any(self._key(p.value, step) for p in node.values if isinstance(p, ast.FormattedValue))
        if isinstance(node, ast.BinOp):
            return self._key(node.left, step) or self._key(node.right, step)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return any(self._key(el, step) for el in _unstarred(node.elts))
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self._key(node.elt, step)
        if isinstance(node, ast.DictComp):
            return self._key(node.key, step)
        if isinstance(node, ast.Subscript):
            index = node.slice
            items = index.elts if isinstance(index, ast.Tuple) else (index,)
            return self._key(node.value, step) or any(
                not isinstance(item, ast.Slice) and self._key(item, step) for item in items)
        if isinstance(node, ast.IfExp):  # depth carries on: `x = x if c else y` must end
            return all(self.is_global(branch) or self._key(branch, step) for branch in (node.body, node.orelse))
        if isinstance(node, ast.Await):
            return self._key(node.value, step)
        if isinstance(node, ast.UnaryOp):
            return self._key(node.operand, step)
        if isinstance(node, ast.Starred):
            return self._key(node.value, step)
        if isinstance(node, ast.Dict):
            return any(key is not None and self._key(key, step) for key in node.keys)
        if isinstance(node, _ForBinding):
            return self._key(node.iterable, step)
        return False

    # -- filters and metadata ----------------------------------------------------------
    def field_scoped(self, node: ast.AST | None) -> bool:
        return node is not None and self._field(node, 0, named=True)

    def _field(self, node: ast.AST, depth: int, named: bool) -> bool:
        """`named`: a bare name here stands for a whole condition, so its name counts."""
        if depth > _MAX_DEPTH:
            return False
        if node is FROM_STORE:
            return True
        step = depth + 1
        if isinstance(node, Alternatives):
            return all(self._field(value, step, named) for value in node.values)
        if isinstance(node, ast.Name):
            bound = self.lookup(node.id)
            if bound is not None:
                return self._field(bound, step, named)
            return named and self.word_is_tenant(node.id)
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and self.text_names_tenant(node.value)
        if isinstance(node, ast.JoinedStr):
            return any(isinstance(p, ast.Constant) and isinstance(p.value, str) and self.text_names_tenant(p.value)
                       for p in node.values)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:  # `**other`
                    if self._field(value, step, True):
                        return True
                elif self._field(key, step, True) or self._field(value, step, False):
                    return True
            return False
        if isinstance(node, ast.Call):
            name = dotted(node.func) or ""
            if any(self.word_is_tenant(w) for w in name.split(".")[-1:]):
                return True
            if isinstance(node.func, ast.Attribute) and self._field(node.func.value, step, False):
                return True
            for arg in node.args:
                if self._field(arg.value if isinstance(arg, ast.Starred) else arg, step, True):
                    return True
            for kw in node.keywords:
                keyword = kw.arg
                if keyword and self.word_is_tenant(keyword):
                    return True
                if self._field(kw.value, step, keyword not in _VALUE_KEYWORDS):
                    return True
            return False
        if isinstance(node, ast.Attribute):
            return named and self.word_is_tenant(node.attr) or self._field(node.value, step, False)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return any(self._field(el, step, named) for el in _unstarred(node.elts))
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self._field(node.elt, step, named)
        if isinstance(node, ast.BinOp):  # Weaviate `f1 & f2`, Milvus "a" + "b"
            return self._field(node.left, step, named) or self._field(node.right, step, named)
        if isinstance(node, ast.BoolOp):  # every operand, `and` or `or` alike
            return all(self._field(value, step, named) for value in node.values)
        if isinstance(node, (ast.Await, ast.Starred)):
            return self._field(node.value, step, named)
        if isinstance(node, ast.IfExp):
            return self._field(node.body, step, named) and self._field(node.orelse, step, named)
        if isinstance(node, ast.Subscript):
            return self._field(node.value, step, named)
        if isinstance(node, _ForBinding):
            return self._field(node.iterable, step, named)
        return False


def _unstarred(elts):
    """Elements of a list/tuple/set display, `*x` standing for `x`."""
    return [el.value if isinstance(el, ast.Starred) else el for el in elts]


def _call_values(call: ast.Call):
    """Every argument value of a call (`*a` and `**kw` as `a`, `kw`); positional ones first."""
    values = _unstarred(call.args)
    values.extend(kw.value for kw in call.keywords)
    return values


@dataclass(frozen=True)
class _ForBinding:
    """The value of a name bound by `for name in iterable`: judged by the iterable."""

    iterable: ast.expr


def for_binding(iterable: ast.expr) -> _ForBinding:
    return _ForBinding(iterable)


__all__ = ["Tenancy", "for_binding"]
