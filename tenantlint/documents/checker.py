"""Documents, search indexes, graphs and wipes: TL405, TL406, TL408 (and TL402 for a
MongoDB `$vectorSearch`, TL002 for what cannot be read).

Calls come from the API catalog packs (`rules/mongodb.toml`, `elasticsearch.toml`,
`neo4j.toml`, `falkordb.toml`, `memgraph.toml`, and the `wipe` entries of the cache and
vector packs), matched by the shared walker (`tenantlint/stores/walker.py`). The same
checker runs in the catalog pass with `collect` set: it then reports nothing and records
which collections, indexes and labels the project writes or filters with a tenant field
(`tenantlint/discover/document_collections.py`).

Which collection a call is on: the call's `collection` argument (Elasticsearch `index=`),
else the name its handle was opened with (`db.notes`, `db["notes"]`,
`db.get_collection("notes")`, followed through local, module and `self.` bindings). A
name that interpolates the tenant (`f"notes-{tenant_id}"`) is scoped by construction; an
unknown name (a parameter) cannot be tied to a tenant collection and is not judged."""
from __future__ import annotations

import ast
import re

from tenantlint.packs import CallSpec
from tenantlint.catalog import CollectionFact
from tenantlint.documents import cypher
from tenantlint.documents.filters import FilterJudge, Verdict
from tenantlint.documents.graph import judge as judge_graph, tenant_labels
from tenantlint.stores.dicts import literal
from tenantlint.stores.tenancy import Alternatives
from tenantlint.sql.recover import RecoveryLookups, Recovered, recover
from tenantlint.stores.handles import Handle
from tenantlint.stores.walker import ApiChecker

_MAX_DEPTH = 12
_WORDS = re.compile(r"[A-Za-z_]\w*")
_KIND_OF_DIALECT = {"mongo": "collection", "elasticsearch": "index"}


class DocumentChecker(ApiChecker):
    codes = ("TL405", "TL406", "TL408", "TL402", "TL002")
    roles = ("document-query", "document-write", "graph", "wipe")

    def __init__(self, ctx, collect: list | None = None) -> None:
        super().__init__(ctx)
        self.collect = collect  # the catalog pass: record CollectionFacts, report nothing
        self.judge = FilterJudge(self.tenancy, self._resolve)
        self.env = RecoveryLookups(lookup=self._recover_lookup, code=ctx.code_for)
        self._callbacks: dict[str, str] = {}  # function name -> kind of its first parameter
        self._judged: set[int] = set()  # Cypher literals already judged (one finding per text)
        self._recovering: set[str] = set()

    # -- transaction functions ----------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        super().visit_Module(node)
        if not self.active:
            return
        methods = {m: kind for k in self.api.kinds.values() for m, kind in k.callbacks.items()}
        if not methods:
            return
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args \
                    and call.func.attr in methods:
                target = call.args[0]
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
                if name:
                    self._callbacks[name] = methods[call.func.attr]
                elif isinstance(target, ast.Lambda):
                    self._callbacks[f"<lambda:{id(target)}>"] = methods[call.func.attr]

    def visit_FunctionDef(self, node) -> None:
        super().visit_FunctionDef(node)
        self._bind_callback(node, node.name)

    def visit_Lambda(self, node) -> None:
        super().visit_Lambda(node)
        self._bind_callback(node, f"<lambda:{id(node)}>")

    def _bind_callback(self, node, name: str) -> None:
        """`def work(tx): tx.run(...)` passed to `session.execute_write(work)`: `tx` is a
        transaction (the first parameter after `self`/`cls`)."""
        kind = self._callbacks.get(name)
        if kind is None:
            return
        params = [*node.args.posonlyargs, *node.args.args]
        if params and params[0].arg in ("self", "cls"):
            params = params[1:]
        if params:
            binding = self.scopes[-1].get(params[0].arg)
            if binding is not None and binding.handle is None:
                binding.handle = Handle(kind)

    # -- judging ------------------------------------------------------------------------
    def check(self, call: ast.Call, role: str, matched) -> None:
        spec: CallSpec = matched[0][0]
        handle = matched[0][1]
        if role == "graph":
            self._graph(call, spec, handle)
            return
        name, name_node = self._collection(call, spec, handle)
        if role == "document-write":
            if self.collect is not None and name and any(self.tenancy.field_scoped(t) for t in self.args(call, spec.tags)):
                self._record(name, spec, call, "written")
            return
        scoped_handle = handle is not None and handle.scoped
        by_name = name_node is not None and name is None and self.tenancy.key_scoped(name_node)
        if role == "wipe":
            if self.collect is None and not scoped_handle and not by_name and not (name and self._global(name)):
                receiver = _short(self.ctx.code_for(call.func))
                self.report("TL408", call, f"`{receiver}()` wipes a store shared by every tenant")
            return
        self._query(call, spec, name, scoped_handle or by_name)

    def _query(self, call: ast.Call, spec: CallSpec, name: str | None, scoped: bool) -> None:
        vector = False
        if spec.pipeline is not None:
            pipeline = self.arg(call, spec.pipeline)
            verdict, vector = self.judge.pipeline(pipeline)
            mentions = self.judge.mentions(pipeline)
        else:
            found = next((f for f in self.args(call, spec.query or spec.filter)), None)
            if spec.dialect == "elasticsearch":
                verdict = self.judge.elastic(found) if spec.query else Verdict.UNSCOPED
            else:
                verdict = self.judge.mongo(found)
            mentions = self.judge.mentions(found)
        if self.collect is not None:
            if name and mentions:
                self._record(name, spec, call, "filtered")
            return
        if scoped or verdict == Verdict.SCOPED or (name and self._global(name)):
            return
        what = f"`{name}`" if name else "the collection"
        if vector:
            if verdict == Verdict.OPAQUE:
                self.report("TL002", call, f"the `$vectorSearch` filter on {what} is passed opaquely: its tenant "
                                           f"scope cannot be verified")
            else:
                self.report("TL402", call, f"`$vectorSearch` on {what} has no tenant filter: it reaches every "
                                           f"tenant's vectors")
            return
        if not name or not self.ctx.catalog.is_tenant_collection(name):
            return
        column = self._column()
        if verdict == Verdict.OPAQUE:
            self.report("TL002", call, f"the filter on {what} is passed opaquely: its `{column}` scope cannot be "
                                       f"verified")
        elif verdict == Verdict.WEAKENED:
            self.report("TL405", call, f"{what}: the `{column}` filter is weakened (`$or`, `should`, `$ne`...)")
        else:
            self.report("TL405", call, f"{what} is {_VERB.get(_method(call), 'read')} without a `{column}` filter")

    def _graph(self, call: ast.Call, spec: CallSpec, handle: Handle | None) -> None:
        arg = self.arg(call, spec.cypher)
        if arg is None:
            return
        bound = self.value_of(arg.id) if isinstance(arg, ast.Name) else None
        values = bound.values if isinstance(bound, Alternatives) else (arg,)
        for value in values:  # `if cjk: q = "..." else: q = "..."`: each text that reaches the call
            if isinstance(value, ast.expr):
                self._cypher(value, handle)

    def _cypher(self, arg: ast.expr, handle: Handle | None) -> None:
        text = recover(arg, self.env)
        if text is None or not text.has_text or not text.nodes:
            return  # opaque: the text is judged where it is built, or by its callers
        first = text.nodes[0]
        if id(first) in self._judged:
            return
        self._judged.add(id(first))
        sql = text.to_sql()  # the same hole markers as for SQL
        try:
            parts = cypher.read(sql.text)
        except (cypher.CypherError, RecursionError) as exc:  # never a crash: unreadable text
            if self.collect is None and self.tenancy.text_names_tenant(sql.text):
                self.report("TL002", first, f"this Cypher could not be read ({exc}): its tenant scope cannot be "
                                            f"verified")
            return
        is_tenant = self.tenancy.word_is_tenant
        if self.collect is not None:
            for label in tenant_labels(parts, is_tenant):
                self.collect.append(CollectionFact(label, "label", self.ctx.path, first.lineno, "filtered"))
            return
        if handle is not None and handle.scoped:
            return
        labels = self.ctx.catalog.tenant_labels()
        holes = frozenset(h.marker for h in sql.holes if self._names_tenant(h.name))
        verdict = judge_graph(parts, is_tenant, labels, holes)
        if not verdict.unanchored:
            return
        node = verdict.unanchored[0]
        shown = f"`({node.var}{''.join(':' + lbl for lbl in node.labels)})`" if node.var or node.labels else "`()`"
        column = self._column()
        if not verdict.certain and not verdict.weakened:
            self.report("TL002", first, f"node {shown} is not tied to `{column}` and the query interpolates text: "
                                        f"its scope cannot be verified")
        elif verdict.weakened:
            self.report("TL406", first, f"node {shown}: the `{column}` predicate is weakened (OR, NOT, <>, IS NULL)")
        else:
            self.report("TL406", first, f"node {shown} is {_GRAPH_VERB.get(node.clause, 'read')} without a "
                                        f"`{column}` property: the query reaches every tenant's nodes")

    # -- names ----------------------------------------------------------------------------
    def _collection(self, call: ast.Call, spec: CallSpec, handle: Handle | None) -> tuple[str | None, ast.expr | None]:
        """(literal name, or None; the expression naming it, or None when unknown)."""
        if spec.collection is not None:
            node = self.arg(call, spec.collection)
        elif isinstance(call.func, ast.Attribute):
            node = self._name_of(call.func.value, 0, loose=handle is None)
        else:
            node = None
        if isinstance(node, ast.Name):
            bound = self._resolve(node)
            node = bound if isinstance(bound, ast.expr) else node
        text = literal(node)
        if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) == 1:
            text = literal(node.elts[0])
        return (text.split(",")[0].strip() if text else None), node

    def _name_of(self, node: ast.expr, depth: int, loose: bool = False) -> ast.expr | None:
        """The expression a collection handle was opened with (see the module docstring).
        `loose`: the call matched by a distinctive method on an unknown receiver (a database
        passed in as a parameter): `db["notes"]`, `db.get_collection("notes")` and `x.notes`
        name the collection whatever `db` is."""
        if depth > _MAX_DEPTH:
            return None
        step = depth + 1
        if isinstance(node, ast.Await):
            return self._name_of(node.value, step, loose)
        if isinstance(node, ast.Name):
            bound = self.value_of(node.id)
            if isinstance(bound, ast.expr):
                return self._name_of(bound, step, loose)
            return self._imported_name(node) if self.lookup(node.id) is None else None
        if isinstance(node, ast.Attribute):
            if self._on_self(node):
                binding = self.classes[-1].get(node.attr)
                value = binding.value if binding is not None else None
                return self._name_of(value, step, loose) if isinstance(value, ast.expr) else None
            owner = self.handle_of(node.value)
            if owner is None and self._imported_name(node) is not None:  # `clients.notes`
                return self._imported_name(node)
            kind = self.api.kinds.get(owner.kind) if owner else None
            if kind is not None and node.attr not in kind.attributes and "*" in kind.attributes or \
                    loose and kind is None and not self._on_self(node):
                return self._imported_name(node) or ast.copy_location(ast.Constant(node.attr), node)
            return None
        if isinstance(node, ast.Subscript):
            owner = self.handle_of(node.value)
            kind = self.api.kinds.get(owner.kind) if owner else None
            return node.slice if (kind is not None and kind.item) or (loose and kind is None) else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = self.handle_of(node.func.value)
            kind = self.api.kinds.get(owner.kind) if owner else None
            if kind is None and loose:
                kind = next((k for k in self.api.kinds.values()
                             if any(p.name for p in k.methods.get(node.func.attr, ()))), None)
            for production in (kind.methods.get(node.func.attr, ()) if kind else ()):
                if production.name is not None:
                    return self.arg(node, production.name)
                if owner is not None and production.returns == owner.kind:  # `with_options()`: the same one
                    return self._name_of(node.func.value, step, loose)
        return None

    def module_collections(self) -> list[tuple[str, str]]:
        """(name, collection) of the module-level names bound to a collection handle of a
        known name (for other modules that import them)."""
        out = []
        for name in self.module_scope:
            found = literal(self._name_of(ast.Name(name), 0))
            if found:
                out.append((name, found))
        return out

    def _imported_name(self, node: ast.expr) -> ast.expr | None:
        """A collection handle another module of the project binds (`from app.db import notes`)."""
        names = getattr(self.ctx.catalog, "collection_handles", None)
        qualified = self.ctx.imports.qualify(node) if names else None
        found = names.get(qualified) if qualified else None
        return ast.copy_location(ast.Constant(found), node) if found else None

    def _resolve(self, node: ast.AST):
        return self.value_of(node.id) if isinstance(node, ast.Name) else None

    def _recover_lookup(self, name: str) -> Recovered | None:
        if name in self._recovering:
            return None
        bound = self.value_of(name)
        if isinstance(bound, Alternatives):
            # `where = ""` then `if group_ids: where += " WHERE ..."`: the path that skipped the
            # narrowing is the one that leaks (the fail-open), so the earliest value is read
            bound = bound.values[0] if all(isinstance(v, ast.expr) for v in bound.values) else None
        if not isinstance(bound, ast.expr):
            return None
        self._recovering.add(name)
        try:
            return recover(bound, self.env)
        finally:
            self._recovering.discard(name)

    def _names_tenant(self, code: str) -> bool:
        """Interpolated code that names the tenant: a word of it, or a part of a snake_case
        word (`workspace_label`, `self._get_workspace_label()`), is a tenant column or says tenant."""
        for word in _WORDS.findall(code):
            if self.tenancy.word_is_tenant(word) or any(self.tenancy.word_is_tenant(p) for p in word.split("_") if p):
                return True
        return False

    def _global(self, name: str) -> bool:
        return self.ctx.catalog is not None and self.ctx.catalog.is_global(name)

    def _column(self) -> str:
        return self.ctx.settings.tenant_columns[0] if self.ctx.settings.tenant_columns else "tenant_id"

    def _record(self, name: str, spec: CallSpec, call: ast.Call, how: str) -> None:
        self.collect.append(CollectionFact(name, _KIND_OF_DIALECT.get(spec.dialect, "collection"), self.ctx.path,
                                           call.lineno, how))


_VERB = {"delete_one": "deleted", "delete_many": "deleted", "delete": "deleted", "delete_by_query": "deleted",
         "update_one": "updated", "update_many": "updated", "update": "updated", "update_by_query": "updated",
         "replace_one": "replaced", "find_one_and_update": "updated", "find_one_and_delete": "deleted",
         "find_one_and_replace": "replaced", "count_documents": "counted", "count": "counted",
         "aggregate": "aggregated", "search": "searched"}
_GRAPH_VERB = {"MATCH": "matched", "OPTIONAL MATCH": "matched", "MERGE": "merged", "CALL": "read from an index"}


def _method(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 60 else "..." + code[-57:]
