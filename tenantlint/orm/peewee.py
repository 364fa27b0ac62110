"""peewee queries: `Model.select()`, `get`/`get_or_none`/`get_by_id`, `update()`/`delete()`
narrowed by `.where()` and run by `.execute()`. A condition on `Model.<tenant column>`
(`==`, `in_`, under `&`) scopes a model, as in SQLAlchemy, whose condition reading
this class shares; `filter(tenant_id=...)` and `get(tenant_id=...)` keywords scope as
`filter_by` does. `create`/`insert` are writes (judged as writes elsewhere)."""
from __future__ import annotations

import ast

from tenantlint.orm.common import call_args
from tenantlint.orm.flow import EMPTY, Flow
from tenantlint.orm.sqlalchemy import SqlAlchemy, _single
from tenantlint.orm.state import Root, State

READS = {"select", "get", "get_or_none", "get_by_id", "get_or_create"}
WRITES = {"update", "delete", "delete_by_id", "set_by_id"}
BY_ID = {"get_by_id", "delete_by_id", "set_by_id"}
INSERTS = {"create", "insert", "insert_many", "insert_from", "replace", "replace_many", "bulk_create",
           "bulk_update"}


class Peewee(SqlAlchemy):
    name = "peewee"

    def model_refs(self, node, flow: Flow | None = None) -> frozenset[str]:
        return self.models.models_of(node, "peewee")

    def root(self, node, flow: Flow):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            return None
        name = node.func.attr
        if name not in READS and name not in WRITES and name not in INSERTS:
            return None
        models = self.models.models_of(node.func.value, "peewee")
        if not models:
            return None
        args = call_args(node)
        if name in INSERTS:
            for arg in args:
                flow.walk(arg.value)
            return EMPTY
        state = State(Root(node, "peewee", flow.escaped), models, write=name in WRITES, last_entity=_single(models))
        if name in BY_ID:
            for arg in args:
                flow.walk(arg.value)
            flow.observe(frozenset({state}))
            return EMPTY
        if name in ("select", "update", "delete"):
            for arg in args:
                flow.walk(arg.value)
            return frozenset({state})
        # get / get_or_none / get_or_create: conditions and keywords, then the row.
        state = self.narrow_get(state, args, flow, node)
        flow.observe(frozenset({state}))
        return EMPTY

    def narrow_get(self, state: State, args, flow: Flow, call: ast.Call | None = None) -> State:
        conds = [a for a in args if not a.keyword and a.star != "**"]
        keywords = [a for a in args if (a.keyword and a.keyword != "defaults") or a.star == "**"]
        scoped, ties, opaque = self.conditions(conds, flow) if conds else (frozenset(), frozenset(), False)
        state = state.narrowed(scoped, ties, opaque)
        if keywords:
            state = self._filter_by(state, keywords, flow, call)
        for arg in args:
            flow.walk(arg.value)
        return state

    def method(self, states: frozenset[State], call: ast.Call, name: str, flow: Flow) -> frozenset[State]:
        if name in ("filter", "get", "get_or_none") and any(a.keyword or a.star == "**" for a in call_args(call)):
            out = frozenset(self.narrow_get(s, call_args(call), flow, call) for s in states)
            if name != "filter":
                flow.observe(out)
                return EMPTY
            return out
        if name == "execute":
            flow.observe(states)
            return EMPTY
        on = next((a.value for a in call_args(call) if a.keyword == "on"), None)
        if name == "join" and on is not None:
            # `join(Page, on=(Comment.page == Page.id))`: the condition ties as a join's does.
            out = super().method(states, call, name, flow)
            scoped, ties, opaque = self._all([on], flow, 0)
            return frozenset(s.narrowed(scoped, ties, opaque) for s in out)
        return super().method(states, call, name, flow)
