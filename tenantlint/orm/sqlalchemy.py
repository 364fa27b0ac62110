"""SQLAlchemy statements and queries: `select()`/`update()`/`delete()` (2.0 and Core),
`session.query()`, `Model.query` (Flask-SQLAlchemy), `session.get()`. A condition on
`Model.<tenant column>` (`==`, `in_`, `is_(None)`: the shared rows of no tenant), also
through SQLModel's `col()`, directly, under `and_` or in a splatted literal tuple, or
`filter_by(<tenant column>=...)` scopes a model; a join condition equating two tenant
columns ties them. An `exists().where(...)` in an entity list is scoped by its own
conditions; a nested select is a query of its own."""
from __future__ import annotations

import ast

from tenantlint.names import dotted
from tenantlint.orm.common import Models, call_args, call_name, traced
from tenantlint.orm.flow import EMPTY, Flow
from tenantlint.orm.sqlalchemy_conditions import SqlAlchemyConditions
from tenantlint.orm.state import Root, State
from tenantlint.visit import iter_children

CONDITIONS = {"where", "filter", "having"}
JOINS = {"join", "outerjoin", "join_from", "select_from", "add_entity", "add_columns", "with_entities",
         "outerjoin_from"}
TERMINAL = {"all", "first", "one", "one_or_none", "scalar", "count", "get", "paginate", "first_or_404",
            "one_or_404", "get_or_404", "exists_or_404", "iterator", "scalar_one", "scalar_one_or_none"}
WRITES = {"update", "delete"}
GET_CALLS = {"get", "get_one", "aget", "get_or_404", "get_one_or_404"}
_ROOT_METHODS = {"query", "select", "update", "delete", "insert"} | GET_CALLS


class SqlAlchemy(SqlAlchemyConditions):
    name = "sqlalchemy"

    def __init__(self, models: Models, provenance=None) -> None:
        self.models = models
        self.imports = models.imports
        self.provenance = provenance  # orm.provenance.Provenance: trusted ids, parent keys
        self._outer = frozenset()

    # -- where queries start ------------------------------------------------
    def root(self, node, flow: Flow):
        if isinstance(node, ast.Attribute):
            if node.attr == "query":
                models = frozenset(m for m in self.models.models_of(node.value, "sqlalchemy") if not self._core(m))
                if models:
                    return frozenset({State(Root(node, "sqlalchemy"), models, last_entity=_single(models))})
            return None
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        kind = self._statement_kind(func)
        if kind:
            args = call_args(node)
            positional = [a.value for a in args if not a.keyword]
            entities = self.entities(positional, flow)
            for arg in args:
                flow.walk(arg.value)
            return frozenset({State(Root(node, "sqlalchemy"), frozenset(entities), write=kind != "select",
                                    dropped=kind == "insert", last_entity=self.lead(positional[:1], flow))})
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name not in _ROOT_METHODS:
                return None
            args = call_args(node)
            if name == "query" and args:
                positional = [a.value for a in args if not a.keyword]
                entities = self.entities(positional, flow)
                if entities:
                    for arg in args:
                        flow.walk(arg.value)
                    return frozenset({State(Root(node, "sqlalchemy"), frozenset(entities),
                                            last_entity=self.lead(positional[:1], flow))})
            elif name in GET_CALLS and args and not args[0].keyword:
                models = self.models.models_of(args[0].value, "sqlalchemy")
                if models:
                    for arg in args[1:]:
                        flow.walk(arg.value)
                    root = Root(node, "sqlalchemy")
                    scoped = frozenset()
                    if self.provenance is not None and len(args) > 1 and not args[1].keyword:
                        # `session.get(App, conversation.app_id)`: scoped by a trusted id only.
                        if self.provenance.trusted(args[1].value, flow):
                            scoped = models
                        else:
                            root.id_source = self.provenance.source(args[1].value, flow)
                    flow.observe(frozenset({State(root, models, scoped=scoped)}))
                    return EMPTY
            elif name in ("select", "update", "delete", "insert"):
                tables = frozenset(t for t in self.models.models_of(func.value, "sqlalchemy") if self._core(t))
                if tables:
                    for arg in args:
                        flow.walk(arg.value)
                    return frozenset({State(Root(node, "sqlalchemy"), tables, write=name != "select",
                                            dropped=name == "insert", last_entity=_single(tables))})
        return None

    def _statement_kind(self, func) -> str | None:
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return None
        qualified = self.imports.qualify(func) if self.imports else None
        last = qualified.rsplit(".", 1)[-1] if qualified else ""
        if last not in ("select", "update", "delete", "insert"):
            return None
        if qualified.split(".")[0] in ("sqlalchemy", "sqlmodel"):
            return last
        if dotted(func) in ("db.select", "db.update", "db.delete", "db.insert"):
            return last
        return None

    def model_refs(self, node, flow: Flow | None = None) -> frozenset[str]:
        """The tenant model named directly, through `alias = aliased(Model)` in the function,
        or the models a class binds `self.model` to (several when subclasses differ)."""
        models = self.models.models_of(node, "sqlalchemy")
        if not models and flow is not None and isinstance(node, ast.Name):
            value = flow.resolve(node)
            if isinstance(value, ast.Call) and call_name(value.func) == "aliased" and (value.args or value.keywords):
                models = self.models.models_of(call_args(value)[0].value, "sqlalchemy")
        return models

    def lead(self, exprs, flow: Flow) -> str | None:
        """The one entity `filter_by()` applies to after these expressions, if one."""
        return _single(frozenset(self.entities(exprs, flow)))

    def _core(self, model: str) -> bool:
        orm = self.models.orm(model)
        return bool(orm and orm.core)

    def entities(self, exprs, flow: Flow) -> list[str]:
        """Tenant models an entity list names: `Task`, `Task.title`, `orders.c.id`, `aliased(Task)`,
        `func.count(Task.id)` (not those of nested selects, `select(Task).subquery()`, which are
        queries of their own; of an `exists().where(...)`, those its conditions leave unscoped)."""
        found: list[str] = []

        def visit(node, depth=0) -> None:
            if depth > 30:
                return
            if isinstance(node, (ast.Name, ast.Attribute)):
                current = node
                while isinstance(current, ast.Attribute):
                    models = self.model_refs(current, flow)
                    if models:
                        break
                    current = current.value
                models = self.model_refs(current, flow)
                found.extend(sorted(m for m in models if m not in found))
                if isinstance(node, ast.Attribute) and not models:
                    target = self.relationship_target(node)
                    if target and target not in found:
                        found.append(target)
                return
            if isinstance(node, ast.Call):
                chain = self._chain(node)
                if chain is not None:
                    kind, base = chain
                    if kind == "exists":
                        found.extend(m for m in sorted(self._exists_unscoped(node, base, flow)) if m not in found)
                    return  # a query of its own, judged where it is created
                for arg in call_args(node):
                    visit(arg.value, depth + 1)
                if isinstance(node.func, ast.Attribute):
                    visit(node.func.value, depth + 1)
                return
            for child in _operands(node):
                visit(child, depth + 1)

        for expr in exprs:
            visit(expr)
        return found

    def _chain(self, node: ast.Call):
        """What a chain of method calls starts at: ("query", call) for a statement or a
        `session.query(...)` / `Model.query` (`select(T).where(...).subquery()`,
        `session.query(T).exists()`), ("exists", call) for `exists()`; None for anything else."""
        current = node
        for _ in range(50):
            if isinstance(current, ast.Call):
                func = current.func
                if self._statement_kind(func):
                    return "query", current
                if self._is_exists(func):
                    return "exists", current
                if not isinstance(func, ast.Attribute):
                    return None
                if func.attr == "query" and current.args:
                    return "query", current
                current = func.value
            elif isinstance(current, ast.Attribute) and current.attr == "query":
                return ("query", current) if self.models.models_of(current.value, "sqlalchemy") else None
            else:
                return None
        return None

    def _is_exists(self, func) -> bool:
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return False
        qualified = self.imports.qualify(func) if self.imports else None
        if not qualified or qualified.rsplit(".", 1)[-1] != "exists":
            return False
        return qualified.split(".")[0] in ("sqlalchemy", "sqlmodel") or dotted(func) == "db.exists"

    def _exists_unscoped(self, node: ast.Call, base: ast.Call, flow: Flow) -> frozenset[str]:
        """The tenant models an `exists(...).where(...)` reads and its own conditions leave
        unscoped: `exists().where(T.id == i, T.tenant_id == t)` leaves none."""
        calls = []
        current = node
        while current is not base and isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            calls.append(current)
            current = current.func.value
        models = set(self.entities([a.value for a in call_args(base) if not a.keyword], flow))
        scoped, ties = set(), set()
        for call in calls:
            name = call.func.attr
            positional = [a for a in call_args(call) if not a.keyword]
            if name in CONDITIONS:
                conds = positional
            elif name in JOINS:
                conds = [a for a in positional if self._is_condition(a.value)]
                models.update(self.entities([a.value for a in positional if not self._is_condition(a.value)], flow))
            else:
                continue
            # The tables an EXISTS reads are those its conditions name (`exists().where(...)`).
            models.update(self.entities([a.value for a in conds if not a.star], flow))
            s, t, _ = self.conditions(conds, flow)
            scoped |= s
            ties |= t
        state = State(Root(node, "sqlalchemy"), frozenset(models), frozenset(scoped), frozenset(ties))
        return state.unscoped()

    def relationship_target(self, node: ast.Attribute) -> str | None:
        """`Project.tasks` -> `Task`, when `tasks` is a relationship to a tenant model."""
        owner = self.models.model_of(node.value, "sqlalchemy") if isinstance(node.value, (ast.Name, ast.Attribute)) \
            else None
        if owner is None:
            # The owner may be a non-tenant model: look up the relationship on any model.
            return None
        orm = self.models.orm(owner)
        target = orm.relationships.get(node.attr) if orm else None
        return target if target and self.models.info(target) else None

    def _scoped_by(self, args, scoped) -> str:
        """What the decision trace says scoped a query: a tenant column named in the
        condition, else a parent or primary key equal to a trusted id (orm/provenance.py)."""
        names = frozenset().union(*(self.models.tenant_names(m) for m in scoped)) if scoped else frozenset()
        if not scoped or any(isinstance(n, ast.Attribute) and n.attr.lower() in names
                             for a in args for n in ast.walk(a.value)):
            return "a tenant condition in"
        return "a parent or primary key equal to a trusted id in"

    # -- what a statement/query method does ---------------------------------
    def method(self, states: frozenset[State], call: ast.Call, name: str, flow: Flow) -> frozenset[State]:
        args = call_args(call)
        self._outer = states  # the query a condition's `in_(subquery)` filters
        if name in CONDITIONS:
            scoped, ties, opaque = self.conditions([a for a in args if not a.keyword], flow)
            by = traced(self.models, self._scoped_by(args, scoped), call) if self.models.ctx.trace is not None \
                else None
            out = frozenset(s.narrowed(scoped, ties, opaque, by) for s in states)
        elif name == "filter_by":
            out = frozenset(self._filter_by(s, args, flow, call) for s in states)
        elif name in JOINS:
            targets = [a.value for a in args if not a.keyword and not self._is_condition(a.value)]
            conds = [a for a in args if not a.keyword and self._is_condition(a.value)]
            entities = self.entities(targets, flow)
            last = self.lead(targets[-1:], flow) if entities else None
            scoped, ties, opaque = self.conditions(conds, flow) if conds else (frozenset(), frozenset(), False)
            if not conds and self.provenance is not None:
                # `query.join(AgentsTags)`: joined along its foreign key to a model already there.
                ties = ties | self.provenance.implicit_ties(entities, frozenset().union(*(s.models for s in states)))
            out = frozenset(s.derive(models=s.models | frozenset(entities),
                                     last_entity=last if entities else s.last_entity)
                            .narrowed(scoped, ties, opaque, traced(self.models, "a join condition in", call))
                            for s in states)
        elif name in WRITES and not any(s.write for s in states):
            for arg in args:
                flow.walk(arg.value)
            flow.observe(frozenset(s.derive(write=True) for s in states))
            return EMPTY
        else:
            out = states
        for arg in args:
            flow.walk(arg.value)
        if name in TERMINAL:
            flow.observe(out)
            return EMPTY
        return out

    def _is_condition(self, node) -> bool:
        return isinstance(node, (ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp)) \
            or call_name(node) in ("and_", "or_", "not_")

    def _filter_by(self, state: State, args, flow: Flow, call: ast.Call | None = None) -> State:
        targets = [state.last_entity] if state.last_entity in state.models else list(state.models)
        scoped, opaque = set(), False
        for arg in args:
            if arg.star and flow.trusted(arg.value):
                scoped |= set(targets)  # a helper's `**kwargs`, judged at its calls
            elif arg.star:
                opaque = True
            elif arg.keyword is not None:
                key = arg.keyword.lower()
                scoped |= {m for m in targets if key in self.models.tenant_names(m)}
        by = traced(self.models, "a tenant column in", call) if call is not None else None
        return state.narrowed(frozenset(scoped), opaque=opaque, by=by)


def _single(models: frozenset[str]) -> str | None:
    return next(iter(models)) if len(models) == 1 else None


def _operands(node: ast.expr) -> tuple:
    """The sub-expressions an entity list is searched through: operands, not the items
    of literals or the right side of a comparison (`Task.id == other.id` names `Task`)."""
    if isinstance(node, ast.Compare):
        return (node.left,)
    if isinstance(node, ast.Subscript):
        return (node.value,)
    if isinstance(node, (ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Await, ast.NamedExpr, ast.Yield)):
        return tuple(iter_children(node))
    if isinstance(node, ast.IfExp):
        return (node.body, node.test, node.orelse)
    if isinstance(node, ast.Lambda):
        return (node.body,)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return (node.elt,)
    if isinstance(node, ast.DictComp):
        return (node.key, node.value)
    return ()  # literals, f-strings, starred items
