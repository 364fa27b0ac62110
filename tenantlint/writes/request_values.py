"""Tenant values the client chooses (TL601).

Where a tenant value is used, ask `tenantlint.tenant_sources` whether it comes from
request input (directly, through local variables, casts, f-strings or helpers):

* a Django lookup whose first path component is a tenant column or relation
  (`filter(store_id=...)`, `get(tenant__slug=...)`, `Q(store=...)`,
  `get_object_or_404(Order, store=...)`), a queryset `update(store_id=...)`, an
  `update_or_create(defaults={"store": ...})`, SQLAlchemy `filter_by(store_id=...)`;
* a SQLAlchemy condition on a tenant model's tenant column (`Order.store_id == v`,
  `Order.store_id.in_(v)`), an `update(Order).values(store_id=v)`;
* an assignment of a tenant column or relation on an object (`order.store_id = v`):
  the row moves to the tenant the client names;
* a filter document's tenant field (`find({"store_id": v})`, `$and`, an aggregation's
  `$match`, an update's `$set`);
* a SQL parameter bound to the tenant column (`WHERE store_id = :sid` executed with
  `{"sid": v}`, `%s`/`$1`/`?` by position).
"""
from __future__ import annotations

import ast
from typing import Iterator

from tenantlint.names import dotted
from tenantlint.orm.common import Models
from tenantlint.sql.bound_params import tenant_parameters
from tenantlint.sql.recover import RecoveryLookups, recover
from tenantlint.local_values import FunctionValues
from tenantlint.writes.body import Body
from tenantlint.writes.verified import Verification

LOOKUPS = frozenset({
    "filter", "exclude", "get", "aget", "get_or_create", "aget_or_create", "update_or_create",
    "aupdate_or_create", "filter_by", "update", "aupdate", "get_object_or_404", "aget_object_or_404",
    "get_list_or_404", "aget_list_or_404", "Q", "get_or_none", "get_or_404", "first_or_404",
})
DOCUMENT_CALLS = frozenset({
    "find", "find_one", "find_one_and_update", "find_one_and_delete", "find_one_and_replace", "update_one",
    "update_many", "delete_one", "delete_many", "count_documents", "replace_one", "aggregate", "distinct",
})
DOCUMENT_NESTING = ("$and", "$match", "$set", "$setOnInsert")
SQL_TEXT_WRAPPERS = frozenset({"text", "sql.SQL", "SQL"})


class Found:
    def __init__(self, node: ast.expr, field: str, source: ast.expr) -> None:
        self.node, self.field, self.source = node, field, source


class RequestValues:
    def __init__(self, models: Models, body: Body, values: FunctionValues, tenant_columns, relations,
                 dialect: str, code) -> None:
        self.models = models
        self.body = body
        self.values = values
        self.columns = frozenset(c.lower() for c in tenant_columns)
        self.names = self.columns | frozenset(relations) | \
            frozenset(c[:-3] for c in self.columns if c.endswith("_id") and len(c) > 3)
        self.dialect = dialect
        self.code = code
        self._from_model_names: dict[str, bool] = {}

    def findings(self) -> list[Found]:
        out: list[Found] = []
        seen: set[int] = set()
        verification = Verification(self.body, self.values, self.names)
        for found in self._all():
            if id(found.node) not in seen:
                seen.add(id(found.node))
                if not verification.verified(found.node):
                    out.append(found)
        return out

    def _all(self) -> Iterator[Found]:
        for call in self.body.calls:
            yield from self._lookup(call)
            yield from self._documents(call)
            yield from self._sql(call)
            yield from self._in(call)
        for compare in self.body.compares:
            yield from self._compare(compare)
        for stmt in self.body.assigns:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in self.names and stmt.value is not None:
                    yield from self._check(stmt.value, target.attr)

    def _check(self, value: ast.expr, field: str) -> Iterator[Found]:
        source = self.values.request_input(value)
        if source is not None:
            yield Found(value, field, source)

    # -- ORM lookups ----------------------------------------------------------------------
    def _lookup(self, call: ast.Call) -> Iterator[Found]:
        name = method_name(call)
        if name == "values" and _updates(call):
            name = "update"
        elif name not in LOOKUPS:
            return
        # A predicate narrows a query on a tenant model (`Order.objects...`, `select(Order)`, a
        # local bound to one); narrowing a set the code got elsewhere
        # (`request.user.get_events_with_permission()`, `self.get_queryset()`) picks among
        # tenants already allowed. Setting the tenant column always counts.
        sets = name in ("update", "aupdate", "values")
        predicate = sets or name == "Q" or self._from_model(_receiver(call, name), 0)
        for keyword in call.keywords:
            if keyword.arg is None:
                if predicate:
                    yield from self._dict(keyword.value, lookups=not sets)
            elif keyword.arg in ("defaults", "create_defaults") and name.endswith("update_or_create"):
                yield from self._dict(keyword.value, lookups=False)
            elif predicate and keyword.arg.split("__", 1)[0] in self.names and not _searches(keyword.arg):
                yield from self._check(keyword.value, keyword.arg)
        if name in ("values", "update"):
            for arg in call.args:
                yield from self._dict(arg, lookups=False)

    def _from_model(self, node: ast.AST | None, depth: int) -> bool:
        """Does a query expression start from a tenant model (through calls, attributes,
        subscripts and local names)?"""
        while node is not None and depth <= 4:
            if isinstance(node, (ast.Name, ast.Attribute)) and self.models.models_of(node):
                return True
            if isinstance(node, ast.Call):
                if any(isinstance(a, (ast.Name, ast.Attribute)) and self.models.models_of(a) for a in node.args):
                    return True  # select(Order), session.query(Order)
                node = node.func.value if isinstance(node.func, ast.Attribute) else None
            elif isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Await):
                node = node.value
            elif isinstance(node, ast.Name):
                # `qs = qs.filter(...)` fifty times: each name is judged once.
                if node.id not in self._from_model_names:
                    self._from_model_names[node.id] = False  # a cycle counts as no
                    self._from_model_names[node.id] = any(
                        self._from_model(v, depth + 1) for v in self.body.values_of(node.id))
                return self._from_model_names[node.id]
            else:
                return False
        return False

    def _dict(self, node: ast.AST, lookups: bool) -> Iterator[Found]:
        node = self._resolve(node)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    field = key.value.split("__", 1)[0] if lookups else key.value
                    if field in self.names and not _searches(key.value):
                        yield from self._check(value, key.value)

    # -- SQLAlchemy conditions ------------------------------------------------------------
    def _compare(self, node: ast.Compare) -> Iterator[Found]:
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.In, ast.Is)):
            return
        left, right = node.left, node.comparators[0]
        for column, value in ((left, right), (right, left)):
            field = self._model_column(column)
            if field is not None:
                yield from self._check(value, field)

    def _in(self, call: ast.Call) -> Iterator[Found]:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("in_", "is_", "__eq__") and call.args:
            field = self._model_column(func.value)
            if field is not None:
                yield from self._check(call.args[0], field)

    def _model_column(self, node: ast.AST) -> str | None:
        """`Order.store_id`, `orders.c.store_id`: a tenant column of a tenant model."""
        if not isinstance(node, ast.Attribute) or node.attr.lower() not in self.columns:
            return None
        owner = node.value
        if isinstance(owner, ast.Attribute) and owner.attr == "c":
            owner = owner.value
        if self.models.models_of(owner):
            return node.attr
        return None

    # -- filter documents -----------------------------------------------------------------
    def _documents(self, call: ast.Call) -> Iterator[Found]:
        if not isinstance(call.func, ast.Attribute) or call.func.attr not in DOCUMENT_CALLS:
            return
        for arg in [*call.args, *(k.value for k in call.keywords if k.arg in ("filter", "update", "pipeline"))]:
            yield from self._document(arg, 0)

    def _document(self, node: ast.AST, depth: int) -> Iterator[Found]:
        node = self._resolve(node)
        if depth > 4:
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for element in node.elts:
                yield from self._document(element, depth + 1)
            return
        if not isinstance(node, ast.Dict):
            return
        for key, value in zip(node.keys, node.values):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if key.value in DOCUMENT_NESTING:
                yield from self._document(value, depth + 1)
            elif key.value.lower() in self.columns:
                operators = self._resolve(value)
                if isinstance(operators, ast.Dict):  # {"store_id": {"$in": ids}}
                    for inner in operators.values:
                        yield from self._check(inner, key.value)
                else:
                    yield from self._check(value, key.value)

    # -- SQL parameters -------------------------------------------------------------------
    def _sql(self, call: ast.Call) -> Iterator[Found]:
        if not call.args or len(call.args) + len(call.keywords) < 2:
            return
        first = call.args[0]
        if isinstance(first, ast.Call) and (dotted(first.func) or "") in SQL_TEXT_WRAPPERS and first.args:
            first = first.args[0]
        recovered = self._text(first)
        if recovered is None:
            return
        params = tenant_parameters(recovered, self.columns, self.dialect)
        if not params:
            return
        for param in params:
            for value in bound_values(call, param, self._resolve):
                yield from self._check(value, f":{param}" if isinstance(param, str) else f"parameter {param}")

    def _text(self, node: ast.expr) -> str | None:
        env = RecoveryLookups(lookup=self._recover_lookup, code=self.code)
        try:
            found = recover(node, env)
        except RecursionError:  # pragma: no cover - absurdly deep expressions
            return None
        if found is None or not found.has_text:
            return None
        return found.to_sql().text

    def _recover_lookup(self, name: str):
        values = self.body.values_of(name)
        if len(values) != 1 or isinstance(values[0], ast.Name):
            return None
        return recover(values[0], RecoveryLookups(code=self.code))

    def _resolve(self, node: ast.AST) -> ast.AST:
        """A local name assigned exactly once stands for its value."""
        if isinstance(node, ast.Name):
            values = self.body.values_of(node.id)
            if len(values) == 1:
                return values[0]
        return node


def bound_values(call: ast.Call, param: str | int, resolve) -> Iterator[ast.expr]:
    """The Python values a call running SQL binds to one parameter (a name, or a 1-based
    position): keyword arguments (`bindparams(sid=v)`), a dict or `dict(...)` by name, a
    tuple or list by position, or the arguments after the text (asyncpg `fetch(sql, a, b)`);
    an opaque container (`execute(sql, request.args)`) stands for every parameter.
    `resolve(node)`: the value a local name holds (the node itself when unknown)."""
    rest = call.args[1:]
    containers = [resolve(a) for a in rest] + \
        [resolve(k.value) for k in call.keywords if k.arg in ("params", "parameters", "values", "args")]
    if isinstance(param, str):
        for keyword in call.keywords:
            if keyword.arg == param:
                yield keyword.value
        for container in containers:
            if not isinstance(container, (ast.Dict, ast.Call, ast.Tuple, ast.List, ast.Constant)):
                yield container  # `execute(sql, request.args)`: every parameter is the client's
            elif isinstance(container, ast.Dict):
                for key, value in zip(container.keys, container.values):
                    if isinstance(key, ast.Constant) and key.value == param:
                        yield value
            elif isinstance(container, ast.Call) and dotted(container.func) == "dict":
                for keyword in container.keywords:
                    if keyword.arg == param:
                        yield keyword.value
        return
    sequences = [c for c in containers if isinstance(c, (ast.Tuple, ast.List))]
    if sequences:
        for sequence in sequences:
            if param <= len(sequence.elts) and not isinstance(sequence.elts[param - 1], ast.Starred):
                yield sequence.elts[param - 1]
    elif param <= len(rest) and not any(isinstance(a, ast.Starred) for a in rest[:param]):
        yield rest[param - 1]  # asyncpg: fetch(sql, a, b)


# Lookups that match a pattern: a search over tenants' names (`organizer__name__icontains`),
# not one tenant picked by the client.
SEARCH_LOOKUPS = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
                            "search", "regex", "iregex", "trigram_similar", "trigram_word_similar"})


def _searches(lookup: str) -> bool:
    return lookup.rsplit("__", 1)[-1] in SEARCH_LOOKUPS if "__" in lookup else False


def method_name(call: ast.Call) -> str:
    """`update` for `qs.filter(...).update(...)`, `Q` for `Q(...)` and `models.Q(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _receiver(call: ast.Call, name: str) -> ast.AST | None:
    """The query a lookup narrows: the method's receiver, or a shortcut's first argument."""
    if isinstance(call.func, ast.Attribute):
        return call.func.value
    if name.endswith(("_or_404", "get_or_none")) and call.args:
        return call.args[0]
    return None


def _updates(call: ast.Call) -> bool:
    """`.values(...)` on a SQLAlchemy `update(...)` statement."""
    node = call.func.value if isinstance(call.func, ast.Attribute) else None
    while isinstance(node, ast.Call):
        if method_name(node) == "update" and node.args:
            return True
        node = node.func.value if isinstance(node.func, ast.Attribute) else None
    return False
