"""Ids the ORM checks may trust, and the parent keys that scope a child table.

A lookup by id alone (`session.get(App, x)`, `App.id == x`) is scoped when `x` is
trusted, and a table that is tenant data through its parent (see
tenantlint/foreign_keys.py) is scoped when its parent key equals a trusted value or is
joined to its parent (`Message.conversation_id == Conversation.id`). Trusted, inside one
function: a `tenant-sources` value; the primary key, or a foreign key, of a row loaded by
a query this function ran scoped (or returned by a helper of this module whose every
`return` is such a row), or an id such a query verified before leaving when nothing
was found (what the client sent too, once verified so). Otherwise request input is not
(what the client sent, and a route's path, query and body parameters: the message says
so); a parameter only when every call passes a trusted value. The value-level answers are
tenantlint/id_origin.py's, shared with the SQL checks; the rows, verified ids and names
of the ORM's flow are this module's."""
from __future__ import annotations

import ast

from tenantlint.handed_values import HandedValues
from tenantlint.id_origin import (  # noqa: F401 - LEAVING, leaves_unless: also read by discover/verifiers.py
    LEAVING, PRIMARY_KEYS, IdOrigin, call_name, client_inputs, emptiness_check, expand, leaves_unless, method_owners,
    passes, project_helper, verified_by,
)
from tenantlint.names import annotation_class, statements
from tenantlint.orm.calls import holds
from tenantlint.orm.state import judge
from tenantlint.orm.summaries import bound_params, resolve_call
from tenantlint.visit import child_fields


class Provenance:
    def __init__(self, checker) -> None:
        self.checker = checker
        self.catalog = checker.ctx.catalog
        self.values = None  # tenant_sources.FunctionValues of the function being followed
        self.scoped_helpers: dict[str, frozenset[str]] = {}  # function name -> models of the rows it returns
        self._index: dict[int, tuple] = {}
        self.func = None
        self._feeding: dict[int, list] = {}  # id(call) -> roots of the queries it filters (`in_`)
        self.verifiers: dict[str, frozenset[int]] = {}  # function -> positions of the ids it verifies
        self._indexed: tuple[int, int] | None = None
        self._owner_of: dict[int, ast.ClassDef] | None = None  # id(method) -> its module-level class
        self.handed = HandedValues(checker.ctx)  # parameters trusted at every call, a model's `self`

    def enter(self, func) -> None:
        self.values = self.checker.ctx.tenant_sources.function(func)
        self.func = func

    # -- values -------------------------------------------------------------
    def origin(self, flow) -> IdOrigin:
        """The value-level answers (tenantlint/id_origin.py) with this checker's rows,
        verified ids and names as `flow` holds them."""
        return IdOrigin(self.values, flow.resolve, lambda node: self.row(node, flow),
                        lambda name, line: self.verified(name, flow, line), self._keys, self._route_inputs,
                        **self.handed.callbacks(self.func))

    def trusted(self, node, flow) -> bool:
        return self.origin(flow).trusted(node)

    def row(self, node, flow, depth: int = 0, partial: bool = False) -> frozenset[str] | None:
        """The models of a row loaded under tenant scope that `node` holds, else None: a
        scoped query's result, a same-module helper's scoped row, or a relationship of
        such a row (`for link in agent.tool_links`: rows tied to it by a foreign key).
        `partial`: a query on `cls` in a base class stands for one model at a time, so the
        row is a scoped one for the models its query scopes (the summary of a loader)."""
        if depth > 5:
            return None
        if isinstance(node, ast.Name):
            value = flow.resolve(node)
            if value is node or isinstance(value, ast.Constant) and value.value is None:
                # a loop variable, `found = None` first; a parameter that is a model's row
                return self._bound_rows(node.id, flow, depth) or self._row_parameter(node.id)
            if isinstance(value, ast.Name):
                return self.row(value, flow, depth + 1, partial)  # `found = link`
            node = value
        while isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Attribute):
            related = self._related(node, flow, depth)
            if related is not None:
                return related
        if isinstance(node, ast.Call):
            loaded = self._loader(node, flow)
            if loaded is not None:
                return loaded[0] or None  # a loader called with its tenant (or without)
            if isinstance(node.func, ast.Name) and node.func.id in self.scoped_helpers:
                return self.scoped_helpers[node.func.id]
            models = self._project_helper(node.func)[1]
            if models:
                return frozenset(models)  # a helper of another module returning scoped rows
        by_node = self._by_node()
        models: set[str] = set()
        found = False
        # `item = result.scalar_one_or_none()` <- `result = await session.execute(query)`:
        # the query that loaded it may be built in earlier statements.
        held = flow.env or {}
        for sub in (n for value in expand(node, flow.resolve) for n in ast.walk(value)):
            entry = by_node.get(id(sub))
            if entry is not None:
                states = entry[1]
            elif type(sub) is ast.Name and held.get(sub.id):
                # `session.execute(query)`, `query` narrowed over many statements and
                # branches: the forms it holds here
                states = held[sub.id]
            else:
                continue
            always = self.checker.always
            if any(s.write or s.opaque and s.unscoped(always) for s in states):
                return None  # (an opaque form scoped in all it has: every form it stands for was)
            if partial:
                found = True
                models |= {m for s in states for m in s.models} - {m for s in states for m in s.unscoped(always)}
                continue
            if judge(states, self.checker.always) is not None:
                return None
            found = True
            for state in states:
                models |= state.models
        return frozenset(models) if found and models else None

    def _related(self, node: ast.Attribute, flow, depth: int) -> frozenset[str] | None:
        """`row.rel` where `rel` is a relationship of a scoped row's model: its targets."""
        owners = self.row(node.value, flow, depth + 1) if isinstance(node.value, (ast.Name, ast.Attribute)) else None
        if not owners:
            return None
        targets = set()
        for model in owners:
            orm = self.catalog.orm.get(model)
            target = orm.relationships.get(node.attr) if orm is not None else None
            if target is None:
                return None
            targets.add(target.rsplit(".", 1)[-1])
        return frozenset(targets)

    def _row_parameter(self, name: str) -> frozenset[str] | None:
        """A parameter annotated with a tenant model (`block: BlockModel`), never rebound:
        a row in hand, loaded (and judged) where it was loaded, as a Django `obj.pk` is
        (orm/parent_keys.py `object_in_hand`)."""
        func = self.func
        if func is None or self.values is None or self.values.assigned.get(name):
            return None
        args = func.args
        arg = next((a for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg == name), None)
        imports = self.checker.ctx.imports
        if arg is None or arg.annotation is None or imports is None:
            return None
        qualified = annotation_class(arg.annotation, imports.qualify)
        package, _, short = (qualified or "").rpartition(".")
        info = self.catalog.models.get(short)
        where = (info.qualname or "") if info is not None else ""
        # the model class itself (or re-exported by a package above it), not a schema of
        # the same name (`schemas.user.User`)
        if not where or not (qualified == where or where.startswith(package + ".")):
            return None
        return frozenset({short})

    def _bound_rows(self, name: str, flow, depth: int) -> frozenset[str] | None:
        """A name bound more than once (a loop variable, `found = None` then `found = x`)
        holds a scoped row when every value bound to it is one (or None)."""
        bound = self.values.assigned.get(name) if self.values is not None else None
        if not bound:
            return None
        models: set[str] = set()
        for value in bound:
            if isinstance(value, ast.Constant) and value.value is None:
                continue
            rows = self.row(value, flow, depth + 1)
            if rows is None:
                return None
            models |= rows
        return frozenset(models) or None

    def _by_node(self) -> dict[int, tuple]:
        """The checker's observed queries by the node that created them (rebuilt as it grows)."""
        observed = self.checker.observed
        if self._indexed != (id(observed), len(observed)):  # the summary pass swaps in fresh dicts
            self._index = {id(root.node): (root, states) for root, states in observed.values()}
            self._indexed = (id(observed), len(observed))
        return self._index

    def _targets(self, model: str, column: str) -> set[str]:
        info = self.catalog.models.get(model)
        keys = info.extra.get("foreign_keys", ()) if info is not None else ()
        return {k[1].lower().rsplit(".", 1)[-1] for k in keys if k[0].lower() == column}

    def _same_target(self, model: str, column: str, other) -> bool:
        mine = self._targets(model, column)
        return bool(mine) and all(mine & self._targets(o, other[1]) for o in other[0])

    def _keys(self, model: str) -> frozenset[str]:
        """The foreign-key columns of a model."""
        orm_fact = self.catalog.models.get(model)
        keys = orm_fact.extra.get("foreign_keys", ()) if orm_fact is not None else ()
        return frozenset(k[0].lower() for k in keys)

    def source(self, node, flow) -> str | None:
        """Where an untrusted id comes from, for the message."""
        return self.origin(flow).source(node)

    def _route_inputs(self) -> frozenset[str]:
        """The parameters of the function being followed that the client fills, when it
        is a route or view (tenantlint.reach)."""
        if self.func is None:
            return frozenset()
        if self._owner_of is None:
            self._owner_of = method_owners(self.checker.ctx.module)
        return client_inputs(self.func, self._owner_of.get(id(self.func)))

    # -- conditions ---------------------------------------------------------
    def compare(self, left, right, refs, flow, many: bool = False):
        """(scoped models, ties) of `left == right` through ids and parent keys (`many`:
        `left.in_(right)`, every id of the collection trusted).
        `refs(node)` -> (models, column) of a column reference, or None."""
        scoped, ties = set(), set()
        for a, b in ((left, right),) if many else ((left, right), (right, left)):
            ref = refs(a)
            if ref is None:
                continue
            models, column = ref
            other = refs(b)
            for model in models:
                info = self.catalog.models.get(model)
                parents = info.extra.get("parents", {}) if info is not None else {}
                parent = parents.get(column)
                if other is not None and (parent is not None and parent in other[0] or
                                          info is not None and info.extra.get("chain") and other[1] in PRIMARY_KEYS):
                    # Joined to its parent (or, for a child table, to any tenant row by that
                    # row's key: an inner join keeps only the child rows of scoped parents).
                    ties.update((model, o) for o in other[0] if o != model and (parent is None or o == parent))
                elif other is not None and info is not None and info.extra.get("chain") and \
                        self._same_target(model, column, other):
                    # `ArchivalPassage.archive_id == ArchivesAgents.archive_id`: both keys
                    # reference one row, so the child rows are those of a scoped row's parent.
                    ties.update((model, o) for o in other[0] if o != model)
                elif (parent is not None or column in PRIMARY_KEYS or self._tenant_key(info, column)) and \
                        other is None and \
                        (self.origin(flow).each_trusted(b) if many else self.trusted(b, flow)):
                    scoped.add(model)
        return frozenset(scoped), frozenset(ties)

    def _tenant_key(self, info, column: str) -> bool:
        """A non-null foreign key of a model with its own tenant column to a tenant table
        (`BlocksTags.block_id` -> blocks): the rows that reference a trusted row are that
        tenant's, as a child table's are (SPEC "Indirect tenancy")."""
        if info is None or not info.tenant_columns:
            return False
        tables = self.catalog.tables
        return any(k[0].lower() == column and not k[2] and (k[1] in tables or k[1] in self.catalog.indirect)
                   for k in info.extra.get("foreign_keys", ()))

    def verified(self, name: str, flow, before: int | None = None) -> bool:
        """Has this function checked the id `name` with a scoped query and left when
        nothing was found (`.one()`, `first_or_404`, `if not row` / `if row is None` /
        `if len(rows) == 0`: raise/abort/return), or passed it to a helper of this module
        that does, before line `before`? The query may be built and run in earlier
        statements (`q = select(...)`, `result = session.execute(q)`, `rows = result.all()`)."""
        if self.func is None:
            return False

        def filters(nodes) -> bool:
            return any(_compares_name(n, name) for node in nodes for n in ast.walk(node)) and \
                self._scoped_query_in(nodes)
        return verified_by(blocks(self.func), name, before, flow.resolve, filters,
                           lambda value: self._verifier_call(value, name, flow))

    def _scoped_query_in(self, nodes) -> bool:
        """Do these expressions run a query, every one of them scoped?"""
        by_node = self._by_node()
        found = False
        for node in nodes:
            for sub in ast.walk(node):
                entry = by_node.get(id(sub))
                if entry is None:
                    continue
                states = entry[1]
                always = self.checker.always
                if judge(states, always) is not None or any(s.write or s.opaque and s.unscoped(always) for s in states):
                    return False
                found = found or any(s.models for s in states)
        return found

    def _verifier_call(self, value, name: str, flow) -> bool:
        """A call that verifies `name`: to a helper of this module, or to a project function
        of another module the catalog pass found verifying that parameter
        (tenantlint/discover/verifiers.py), by position or keyword."""
        while isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return False
        if isinstance(value.func, ast.Name) and value.func.id in self.verifiers:
            positions = self.verifiers[value.func.id]
            return any(isinstance(a, ast.Name) and a.id == name for i, a in enumerate(value.args) if i in positions)
        loaded = self._loader(value, flow)
        if loaded is not None:
            return passes(value, name, loaded[1])
        return passes(value, name, self._project_helper(value.func)[0])

    def _loader(self, call: ast.Call, flow) -> tuple[frozenset[str], tuple] | None:
        """(models of the scoped row, (position, parameter) ids verified) of a call to a
        summarized loader given every optional (tenant) parameter it has
        (`Agent.read_async(session, identifier=agent_id, actor=actor)`), restricted to the
        models the class it is called through stands for; ((), ()) for a call to a
        tenant-optional function that does not give its tenant (nothing it returns is
        scoped, whatever its text looks like); None when the summaries cannot tell."""
        judge_calls = self.checker.call_judge
        if judge_calls is None or self.func is None and not isinstance(call.func, ast.Name):
            return None
        owner = self.checker._owners.get(id(self.func), "") if self.func is not None else ""
        me = _first_param(self.func) if owner else None
        target = resolve_call(call, self.checker.functions, judge_calls.qualify, owner, me, flow.resolve)
        summary = target.summary if target is not None else None
        if summary is None:
            return None
        given, hidden = bound_params(call, summary, lambda node: isinstance(node, ast.Name) and
                                     flow.assume.get(node.id) is False)
        if summary.optional and (hidden or any(param not in given for param, _ in summary.optional)) or \
                summary.assumes and not holds(call, summary.assumes, flow):
            return frozenset(), ()  # `**kwargs` may or may not carry the tenant: no credit either
        if not (summary.rows or summary.verifies):
            return None
        return judge_calls._receiver(target.receiver)(summary.rows), summary.verifies

    def _project_helper(self, func) -> tuple[tuple, tuple]:
        """(parameters verified, models of the scoped rows returned) of the project function
        of another module a call runs (tenantlint/discover/verifiers.py), or ((), ())."""
        index = getattr(self.catalog, "scoped_helpers", None)
        imports = self.checker.ctx.imports
        if not index or imports is None or not isinstance(func, (ast.Name, ast.Attribute)):
            return (), ()
        qualified = imports.qualify(func) or ""
        owner = self.checker._owners.get(id(self.func)) if self.func is not None else None
        if owner and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                func.value.id == _first_param(self.func):
            # `self._get_resource(...)` / `cls.read(...)`: the method of this class or a base
            functions = self.checker.functions
            qualified = functions.method(owner, func.attr) or f"{owner}.{func.attr}"
        return project_helper(index, qualified)

    def implicit_ties(self, joined, present) -> frozenset[tuple[str, str]]:
        """A child table joined with no condition (SQLAlchemy follows its foreign key) is
        tied to the parent it references when that parent is already in the query."""
        ties = set()
        for model in joined:
            info = self.catalog.models.get(model)
            for parent in (info.extra.get("parents", {}).values() if info is not None else ()):
                if parent in present and parent != model:
                    ties.add((model, parent))
        return frozenset(ties)

    def feeds(self, subquery, outer) -> None:
        """`Agent.id.in_(select(AgentsTags.agent_id)...)`: the subquery's rows only filter
        the outer query; remember which queries its creating calls filter."""
        roots = [s.root for s in outer]
        if not roots or not isinstance(subquery, ast.AST):
            return
        for sub in ast.walk(subquery):
            if isinstance(sub, ast.Call):
                self._feeding.setdefault(id(sub), []).extend(roots)

    def filters_scoped(self, root, missing) -> bool:
        """A subquery that only filters queries every form of which is scoped
        (`Block.id.in_(select(BlocksTags.block_id).where(...))`): its ids never leave the
        scoped query, whether its table is a child table or has a tenant column of its own."""
        outer = self._feeding.get(id(root.node))
        if not outer:
            return False
        observed = self._by_node()
        for other in outer:
            entry = observed.get(id(other.node))
            if entry is None or judge(entry[1], self.checker.always) is not None:
                return False
        return True

    def helper_done(self, func, flow) -> None:
        params = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
        # Only a parameter compared with `==` or handed to a verifier can be verified, and
        # only `return`s can return rows: one walk finds both, instead of one walk of the
        # whole body per parameter and another for the returns.
        named: set[str] = set()
        returns = []
        compare, call, keyword, name, ret = ast.Compare, ast.Call, ast.keyword, ast.Name, ast.Return
        for node in own_nodes(func):
            kind = type(node)
            if kind is compare:
                if len(node.ops) == 1 and type(node.ops[0]) is ast.Eq:
                    named.update(side.id for side in (node.left, node.comparators[0]) if type(side) is name)
            elif kind is call:
                if type(node.func) is name and node.func.id in self.verifiers:
                    named.update(a.id for a in node.args if type(a) is name)
            elif kind is keyword:
                if type(node.value) is name:
                    named.add(node.value.id)  # a Django lookup `pk=param`
            elif kind is ret:
                returns.append(node)
        verified = frozenset(i for i, p in enumerate(params) if p in named and self.verified(p, flow))
        if verified:
            self.verifiers[func.name] = verified
        self._scoped_returns(func, flow, returns)

    def _scoped_returns(self, func, flow, returns) -> None:
        """Remember a function of this module whose every `return` is a row loaded under scope."""
        if not returns:
            return
        models: set[str] = set()
        for ret in returns:
            rows = self.row(ret.value, flow) if ret.value is not None else None
            if rows is None:
                return
            models |= rows
        self.scoped_helpers[func.name] = frozenset(models)


def _compares_name(node, name: str) -> bool:
    """`X.id == name`, or a Django lookup `pk=name` / `message_id=name`."""
    return any(isinstance(side, ast.Name) and side.id == name for side in _compared(node))


def blocks(func):
    """Every statement list of a function body (not of nested functions or classes)."""
    for node in own_nodes(func):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
    yield func.body


def _first_param(func) -> str | None:
    positional = [*func.args.posonlyargs, *func.args.args]
    return positional[0].arg if positional else None


_NESTED = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})


def own_nodes(func):
    """The nodes of a function body, not those of functions or classes nested in it (nor
    expression contexts and operators: tenantlint.visit.child_fields). Every function of
    every screened-in file is walked so: the loop is kept flat."""
    todo = list(func.body)
    pop, append, fields_of, node_type = todo.pop, todo.append, child_fields, ast.AST
    while todo:
        node = pop()
        yield node
        kind = type(node)
        if kind in _NESTED:
            continue
        for field in fields_of(kind):
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        append(item)
            elif isinstance(value, node_type):
                append(value)


def loaded_rows(provenance: Provenance, func, flow, params: tuple[str, ...] = (),
                kwonly: tuple[str, ...] = ()) -> tuple[frozenset[str], tuple[tuple[int, str], ...]]:
    """What a loader hands its callers, as the summary pass follows it (with its optional
    parameters given): the models of the rows every `return` hands back loaded under
    scope (`return item` after `item = (await session.execute(query)).scalar_one_or_none()`),
    and, when it leaves on every path where nothing was found (`if item is None: raise`,
    a raising fetch), the id parameters those queries were built with: verified.
    `params`: positional parameters as callers pass them (no `self`/`cls`)."""
    returns = [stmt for stmt in statements(func.body) if type(stmt) is ast.Return]
    if not returns or any(r.value is None for r in returns):
        return frozenset(), ()
    models: set[str] = set()
    for ret in returns:
        rows = provenance.row(ret.value, flow, partial=True)
        if rows is None:
            return frozenset(), ()
        models |= rows
    if not all(_leaves_if_missing(ret.value, func, flow) for ret in returns):
        return frozenset(models), ()
    # The ids its queries were built with: named in what the returns are made of, or
    # compared / given as a lookup anywhere in it (`qs = X.objects.filter(pk=pk)`, then
    # `qs = qs.filter(...)`: the first value is out of the names' reach).
    named = {n.id for ret in returns for value in expand(ret.value, flow.resolve, 12)
             for n in ast.walk(value) if isinstance(n, ast.Name)}
    named |= {side.id for n in own_nodes(func) for side in _compared(n) if isinstance(side, ast.Name)}
    verified = [(i, p) for i, p in enumerate(params) if p in named and _id_like(p)]
    verified += [(-1, p) for p in kwonly if p in named and _id_like(p)]
    return frozenset(models), tuple(verified)


def _compared(node) -> tuple:
    """The values a node compares with `==` or gives as a lookup keyword."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        return node.left, node.comparators[0]
    if isinstance(node, ast.keyword) and node.arg is not None:
        return (node.value,)
    return ()


def _id_like(param: str) -> bool:
    lowered = param.lower()
    return lowered in PRIMARY_KEYS or lowered.endswith(("_id", "_pk", "uuid", "identifier")) or lowered == "ident"


def _leaves_if_missing(value, func, flow) -> bool:
    """Is the row a `return` hands back never None: fetched by a method that raises when
    nothing is found, or checked by the statement after its assignment (`if not item:
    raise`)?"""
    while isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Name):
        for block in blocks(func):
            for i, stmt in enumerate(block[:-1]):
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and \
                        any(isinstance(t, ast.Name) and t.id == value.id for t in
                            (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])) and \
                        leaves_unless(block[i + 1], value.id, returning=False):
                    return True
        value = flow.resolve(value)
    if not isinstance(value, ast.AST):
        return False
    nodes = [n for part in expand(value, flow.resolve) for n in ast.walk(part)]
    # Django's `get()` raises DoesNotExist on a manager or queryset (`qs = X.objects.filter(...)`)
    held = flow.env or {}
    django = any(isinstance(n, ast.Attribute) and n.attr == "objects" or
                 type(n) is ast.Name and any(s.root.framework == "django" for s in held.get(n.id, ())) for n in nodes)
    return any(isinstance(n, ast.Attribute) and (n.attr in LEAVING or django and n.attr in ("get", "aget"))
               for n in nodes)
