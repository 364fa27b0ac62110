"""Is the value a parent-key predicate takes trusted? (SPEC "Indirect tenancy and trusted ids")

A table that is tenant data through its parent is anchored by `WHERE app_id = %s` only
when the Python value bound to that parameter is trusted (tenantlint/sql/parent_keys.py).
The SQL checker hands each text that binds such parameters here, with the calls that
run it (sql_sites.py); this module finds the values they bind (`bound_values`, as the
request-input rule TL601 finds them) and judges each one with tenantlint/id_origin.py
in the function that binds it. Request input and a parameter of a route are not
trusted, a parameter of a helper only when every call in the project passes a trusted
value (tenantlint/caller_trust.py); a tenant source,
the primary or parent key of a row a scoped SQL query (or a project helper that returns
scoped rows) loaded, an id a scoped query verified, and a constant are. A text whose
binding is out of sight (run by a wrapper, bound with `*args`) is TL002."""
from __future__ import annotations

import ast

from tenantlint.handed_values import HandedValues
from tenantlint.id_origin import IdOrigin, client_inputs, column_of, method_owners, passes, project_helper, verified_by
from tenantlint.local_values import returns
from tenantlint.names import dotted
from tenantlint.orm.provenance import blocks
from tenantlint.rules.sql_sites import TEXT_WRAPPERS
from tenantlint.sql.bound_params import selected_columns
from tenantlint.sql.parent_keys import UNSEEN
from tenantlint.sql.recover import RecoveryLookups, recover
from tenantlint.trace import SCOPED
from tenantlint.writes.request_values import bound_values

NOT_SHOWN = "by an id not shown to be trusted"
_CURSOR_FETCHES = frozenset({"fetchone", "fetchall", "fetchmany"})
_RESULT_FETCHES = frozenset({"first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none",
                             "fetchone", "fetchall", "all", "mappings", "scalars"})
_SCOPE_CODES = frozenset({"TL002", "TL101", "TL102", "TL104"})
_MAX_DEPTH = 3


class ParentKeyTrust:
    def __init__(self, ctx, policy) -> None:
        self.ctx = ctx
        self.policy = policy
        self._owner_of: dict[int, ast.ClassDef] | None = None
        self._local: dict[int, tuple[tuple, tuple]] = {}  # id(helper of this module) -> what _helper says
        self._depth = 0
        self.handed = HandedValues(ctx)  # parameters trusted at every call, a model's `self`

    # -- judging --------------------------------------------------------------------------
    def untrusted(self, keys, sites: list, holes=lambda key: [], elsewhere: bool = False) -> dict:
        """Parameter key -> where its value comes from, for the parameters bound to a value
        that is not trusted at some site (UNSEEN: at none in sight)."""
        out = {}
        for key in keys:
            if isinstance(key, str) and key.startswith("__tlhole"):
                found = holes(key)
            else:
                found = [(value, func) for site, func in sites for call in self._per_row(site, func)
                         for value in bound_values(call, key, self._resolver(func))]
            if not found:
                out[key] = UNSEEN
                continue
            for value, func in found:
                where = self.judge(value, func)
                if where:
                    out[key] = where
                    break
            else:
                if elsewhere:
                    out[key] = UNSEEN  # other modules run this text too
        return out

    def _per_row(self, call: ast.Call, func) -> list[ast.Call]:
        """`executemany(sql, rows)` binds each row in turn: one call per row written out
        (`[(a,), (b,)]`), or per comprehension element; an opaque list stands for them all."""
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "executemany" and len(call.args) > 1):
            return [call]
        rows = self._resolver(func)(call.args[1])
        items = rows.elts if isinstance(rows, (ast.List, ast.Tuple)) else \
            [rows.elt] if isinstance(rows, (ast.ListComp, ast.GeneratorExp)) else None
        if items is None:
            return [call]
        return [ast.Call(func=call.func, args=[call.args[0], item], keywords=[]) for item in items]

    def judge(self, value: ast.expr, func) -> str | None:
        """None when the value is trusted, else where it comes from."""
        if isinstance(value, ast.Constant):
            return None  # hard-coded, as a literal in the SQL anchors
        origin = self.origin(func)
        if origin.trusted(value):
            return None
        return origin.source(value) or NOT_SHOWN

    def origin(self, func) -> IdOrigin:
        return IdOrigin(self.ctx.tenant_sources.function(func), self._resolver(func),
                        lambda node: self.row(node, func), lambda name, line: self.verified(name, line, func),
                        self._keys, lambda: self._route_inputs(func), lambda node: self._column(node, func),
                        **self.handed.callbacks(func))

    def _column(self, node, func) -> str | None:
        """`row["app_id"]`, `row.app_id`, or `row[0]` of a tuple row whose SELECT list says
        which column comes first."""
        column = column_of(node)
        if column is not None or not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and
                                      type(node.slice.value) is int):
            return column
        call = self._fetching_call(node.value, func)
        text = self._text(call.args[0], func) if call is not None and call.args else None
        if text is None:
            return None
        columns = selected_columns(text.text, self.policy.dialect)
        index = node.slice.value
        return columns[index] if -len(columns) <= index < len(columns) else None

    def _fetching_call(self, node, func, depth: int = 0):
        """The call that runs the SELECT whose row `node` holds (`cur.fetchone()` after
        `cur.execute(sql)`, `conn.fetchrow(sql)`), else None."""
        if depth > 5:
            return None
        while isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Name):
            value = self._resolver(func)(node)
            return None if value is node else self._fetching_call(value, func, depth + 1)
        if not isinstance(node, ast.Call):
            return None
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if method in _CURSOR_FETCHES and isinstance(node.func.value, ast.Name):
            return self._last_execute(node.func.value.id, node.lineno, func)
        if method in _RESULT_FETCHES and isinstance(node.func.value, (ast.Call, ast.Await, ast.Name)):
            return self._fetching_call(node.func.value, func, depth + 1)
        return node

    def _resolver(self, func):
        values = self.ctx.tenant_sources.function(func)

        def resolve(node):
            if isinstance(node, ast.Name):
                assigned = values.assigned.get(node.id)
                if assigned and len(assigned) == 1:
                    return assigned[0]
            return node
        return resolve

    # -- rows loaded under scope ------------------------------------------------------------
    def row(self, node, func, depth: int = 0) -> frozenset[str] | None:
        """The tables (or models) of a row that a scoped query loaded, held by `node`."""
        if depth > 5 or node is None:
            return None
        while isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Name):
            value = self._resolver(func)(node)
            return None if value is node else self.row(value, func, depth + 1)
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant) or \
                isinstance(node, ast.Subscript) and isinstance(node.slice.value, int):
            return self.row(node.value, func, depth + 1)  # `rows[0]`
        if not isinstance(node, ast.Call):
            return None
        helper = self._helper(node.func)[1]
        if helper:
            return frozenset(helper)
        call = self._fetching_call(node, func)
        return self.scoped_tables(call, func) if call is not None else None

    def scoped_tables(self, call: ast.Call, func) -> frozenset[str] | None:
        """The tenant tables a call's SQL reads, when it runs SQL that is scoped (its
        parent-key parameters, if any, bound to trusted values), else None."""
        if not call.args or self._depth >= _MAX_DEPTH:
            return None
        first = call.args[0]
        if isinstance(first, ast.Call) and (dotted(first.func) or "").rsplit(".", 1)[-1] in TEXT_WRAPPERS \
                and first.args:
            first = first.args[0]
        from_sql = self._text(first, func)
        if from_sql is None:
            return None
        from tenantlint.sql import analyze_sql
        notes: list = []
        params: set = set()
        issues = analyze_sql(from_sql, self.policy, notes=notes, parent_params=params)
        if issues is None or any(i.code in _SCOPE_CODES for i in issues):
            return None
        if params:
            self._depth += 1
            try:
                if self.untrusted(params, [(call, func)]):
                    return None
            finally:
                self._depth -= 1
        tables = frozenset(t for t, verdict, _ in notes if verdict == SCOPED)
        return tables or None

    def _text(self, node: ast.expr, func):
        resolve = self._resolver(func)

        def lookup(name: str):
            value = resolve(ast.Name(id=name))
            return None if isinstance(value, ast.Name) else recover(value, RecoveryLookups(code=self.ctx.code_for))
        try:
            found = recover(node, RecoveryLookups(lookup=lookup, code=self.ctx.code_for))
        except RecursionError:  # pragma: no cover - absurdly deep expressions
            return None
        return found.to_sql() if found is not None and found.has_text else None

    def _last_execute(self, cursor: str, before: int, func) -> ast.Call | None:
        """The last `cursor.execute(...)` of the function before a fetch from it."""
        last = None
        for node in ast.walk(func) if func is not None else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "execute" and isinstance(node.func.value, ast.Name) and \
                    node.func.value.id == cursor and node.lineno < before and \
                    (last is None or node.lineno > last.lineno):
                last = node
        return last

    def _keys(self, name: str) -> frozenset[str]:
        """The parent keys of a table, or the foreign keys of a model."""
        keys = set(self.policy.parent_keys.get(name.lower(), {}))
        model = self.ctx.catalog.models.get(name)
        if model is not None:
            keys.update(k[0].lower() for k in model.extra.get("foreign_keys", ()))
        return frozenset(keys)

    def _helper(self, func) -> tuple[tuple, tuple]:
        """((position, parameter) verified, tables or models of the scoped rows returned) of
        the function a call runs: one of this module (its SQL judged here), or a project
        function of another module the catalog pass found (tenantlint/discover/verifiers.py)."""
        local = self._local_helper(func)
        if local is not None:
            return local
        index = getattr(self.ctx.catalog, "scoped_helpers", None)
        imports = self.ctx.imports
        if not index or imports is None or not isinstance(func, (ast.Name, ast.Attribute)):
            return (), ()
        return project_helper(index, imports.qualify(func) or "")

    def _local_helper(self, func) -> tuple[tuple, tuple] | None:
        helper = self.ctx.tenant_sources.helpers.get(func.id) if isinstance(func, ast.Name) else None
        if helper is None:
            return None
        known = self._local.get(id(helper))
        if known is not None:
            return known
        self._local[id(helper)] = ((), ())  # a recursive helper proves nothing about itself
        params = [a.arg for a in (*helper.args.posonlyargs, *helper.args.args)]
        verified = tuple((i, p) for i, p in enumerate(params) if self.verified(p, None, helper))
        rows: set[str] = set()
        for value in returns(helper):
            found = self.row(value, helper)
            if found is None:
                rows = set()
                break
            rows |= found
        self._local[id(helper)] = (verified, tuple(sorted(rows)))
        return self._local[id(helper)]

    # -- verified ids ---------------------------------------------------------------------------
    def verified(self, name: str, before: int | None, func) -> bool:
        """Has the function checked the id `name` with a scoped query (SQL that binds it) and
        left when nothing was found, or handed it to a project helper that verifies it?"""
        if func is None:
            return False
        return verified_by(blocks(func), name, before, self._resolver(func),
                           lambda nodes: self._checks(nodes, name, func),
                           lambda value: self._verifier_call(value, name))

    def _checks(self, nodes, name: str, func) -> bool:
        """Do these expressions run scoped SQL that binds `name`?"""
        for node in nodes:
            for sub in ast.walk(node):
                if not isinstance(sub, ast.Call):
                    continue
                if isinstance(sub.func, ast.Attribute) and sub.func.attr in _CURSOR_FETCHES and \
                        isinstance(sub.func.value, ast.Name):  # `cur.fetchone()` after `cur.execute(sql, ...)`
                    sub = self._last_execute(sub.func.value.id, sub.lineno, func)
                if sub is not None and sub.args and \
                        any(isinstance(n, ast.Name) and n.id == name
                            for arg in (*sub.args[1:], *(k.value for k in sub.keywords)) for n in ast.walk(arg)) and \
                        self.scoped_tables(sub, func) is not None:
                    return True
        return False

    def _verifier_call(self, value, name: str) -> bool:
        while isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return False
        return passes(value, name, self._helper(value.func)[0])

    def _route_inputs(self, func) -> frozenset[str]:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return frozenset()
        if self._owner_of is None:
            self._owner_of = method_owners(self.ctx.module)
        return client_inputs(func, self._owner_of.get(id(func)))
