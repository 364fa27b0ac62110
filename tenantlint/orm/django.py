"""Django querysets: a manager on a tenant model starts a query; lookups whose first
path component is the tenant relation or a tenant column (`tenant=`, `tenant_id__in=`,
`tenant__slug=`, inside a `Q` too) scope it, as does `tenant__isnull=True` (the shared
rows of no tenant). A model that is tenant data through its parent is scoped by its
parent keys (orm/parent_keys.py)."""
from __future__ import annotations

import ast

from tenantlint.orm.common import Models, call_args, call_name, traced
from tenantlint.orm.flow import EMPTY, Flow
from tenantlint.orm.parent_keys import ParentKeys, object_in_hand
from tenantlint.orm.pyast import lookup_is_tenant
from tenantlint.orm.state import Root, State

NARROWING = {"filter", "get", "get_or_create", "update_or_create", "aget", "aget_or_create",
             "aupdate_or_create"}
TERMINAL = {"get", "get_or_create", "update_or_create", "first", "last", "count", "exists", "aggregate",
            "in_bulk", "iterator", "latest", "earliest", "contains", "explain", "aget", "aget_or_create",
            "aupdate_or_create", "afirst", "alast", "acount", "aexists", "aaggregate", "ain_bulk", "alatest",
            "aearliest", "acontains", "aiterator"}
WRITES = {"update", "delete", "aupdate", "adelete"}
NOT_JUDGED = {"raw", "extra", "create", "acreate", "bulk_create", "abulk_create", "bulk_update", "abulk_update"}
NOT_OPAQUE = {"Exists", "Subquery", "F", "Value", "RawSQL", "ExpressionWrapper", "Case", "When", "Func",
              "Lower", "Upper", "Coalesce", "Length", "Trunc", "Cast"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404", "aget_object_or_404", "aget_list_or_404"}


class Django:
    name = "django"

    def __init__(self, models: Models, provenance=None) -> None:
        self.models = models
        self.parents = ParentKeys(models, provenance)

    # -- where queries start ------------------------------------------------
    def root(self, node, flow: Flow):
        if isinstance(node, ast.Attribute):
            # One State per model: `self.model.objects` may stand for several.
            states, root = set(), None
            for model in sorted(self.models.models_of(node.value, "django")):
                scoping = self.manager_scopes(model, node.attr)
                if scoping is None:
                    continue
                root = root or Root(node, "django", flow.escaped)
                scoped = frozenset({model}) if scoping and not flow.escaped else frozenset()
                by = (self._manager(model, node.attr),) if scoped else ()
                states.add(State(root, frozenset({model}), scoped, by=by))
            return frozenset(states) if states else None
        if isinstance(node, ast.Call) and call_name(node.func) == "QuerySet" and (node.args or node.keywords):
            # `QuerySet(Model)` / `QuerySet(model=Model)`: the model's rows, through no manager.
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "model"), None)
            models = self.models.models_of(first, "django") if first is not None else frozenset()
            if models:
                root = Root(node, "django", flow.escaped)
                return frozenset(State(root, frozenset({m})) for m in models)
        if isinstance(node, ast.Call) and call_name(node.func) in SHORTCUTS and (node.args or node.keywords):
            args = call_args(node)
            first = args[0].value
            models = self.models.models_of(first, "django")
            if models:
                root = Root(node, "django", flow.escaped)
                states = set()
                for model in models:
                    orm = self.models.orm(model)
                    scoping = bool(orm and orm.managers.get(orm.default_manager or "objects")) and not flow.escaped
                    by = (self._manager(model, orm.default_manager or "objects"),) if scoping else ()
                    states.add(State(root, frozenset({model}), frozenset({model}) if scoping else frozenset(), by=by))
                states = frozenset(states)
            else:
                states = flow.eval(first)
            if not states:
                for arg in args[1:]:
                    flow.walk(arg.value)
                return EMPTY
            states = self.narrow(states, args[1:], flow, node)
            if flow.authorized and call_name(node.func) in ("get_object_or_404", "aget_object_or_404"):
                states = frozenset(s.scoped_by(_CHECKED, node.lineno) for s in states)
            flow.observe(states)
            return EMPTY
        return None

    def _manager(self, model: str, attr: str) -> tuple[str, str, int]:
        """Why a manager scopes, where the model declares it (for the decision trace)."""
        info = self.models.info(model)
        return f"`{model}.{attr}` is a tenant-scoped manager", info.path if info else "", info.line if info else 0

    def manager_scopes(self, model: str, attr: str) -> bool | None:
        """Does `Model.<attr>` scope by tenant? None: `attr` is not a manager."""
        orm = self.models.orm(model)
        managers = orm.managers if orm else {}
        if attr in managers:
            return managers[attr]
        if attr == "_default_manager":
            return bool(orm and managers.get(orm.default_manager or "objects"))
        if attr == "objects" or attr == "_base_manager" or attr.endswith(("objects", "manager")):
            return False
        return None

    # -- what a queryset method does ----------------------------------------
    def method(self, states: frozenset[State], call: ast.Call, name: str, flow: Flow) -> frozenset[State]:
        args = call_args(call)
        if name in NOT_JUDGED:
            for arg in args:
                flow.walk(arg.value)
            return EMPTY
        if name in NARROWING:
            out = self.narrow(states, args, flow, call)
            if flow.authorized and name in ("get", "aget"):
                # DRF: the object fetched is then checked by check_object_permissions().
                out = frozenset(s.scoped_by(_CHECKED, call.lineno) for s in out)
        elif name == "none":
            out = frozenset(s.scoped_by("`.none()` selects no rows", call.lineno) for s in states)
        elif name in WRITES:
            for arg in args:
                flow.walk(arg.value)
            flow.observe(frozenset(s.derive(write=True) for s in states))
            return EMPTY
        elif self.scoping_method(states, name):
            out = frozenset(s.scoped_by(f"the tenant-scoping queryset method `.{name}()`", call.lineno) for s in states)
            for arg in args:
                flow.walk(arg.value)
        else:  # exclude, order_by, values, annotate, a custom queryset method...
            for arg in args:
                flow.walk(arg.value)
            out = states
        if name in TERMINAL:
            flow.observe(out)
            return EMPTY
        return out

    def scoping_method(self, states, name: str) -> bool:
        """A custom queryset method named for the tenant (`for_tenant(t)`, `of_organization(o)`)."""
        lowered = name.lower()
        if "tenant" in lowered:
            return True
        for state in states:
            orm = self.models.orm(next(iter(state.models), ""))
            if orm is not None and name in orm.scoping_methods:
                return True
            for tname in self.models.tenant_names(next(iter(state.models), "")):
                stem = tname[:-3] if tname.endswith("_id") else tname
                if stem and stem in lowered:
                    return True
        return False

    def narrow(self, states: frozenset[State], args, flow: Flow, call=None) -> frozenset[State]:
        out = set()
        by = traced(self.models, "a tenant lookup in", call) if call is not None else None
        for state in states:
            model = next(iter(state.models), "")
            scoped, opaque = self.lookups(args, model, flow)
            if not scoped and state.root.id_source is None:
                state.root.id_source = self.parents.source(model, args, flow)
            out.add(state.narrowed(frozenset(state.models) if scoped else frozenset(), opaque=opaque and not scoped,
                                   by=by))
        for arg in args:
            flow.walk(arg.value)
        return frozenset(out)

    def lookups(self, args, model: str, flow: Flow) -> tuple[bool, bool]:
        info = self.models.info(model)
        columns = info.tenant_columns if info else frozenset()
        relations = info.tenant_relations if info else frozenset()
        scoped = opaque = False
        for arg in args:
            if arg.keyword is not None:
                key = arg.keyword
                if key not in ("defaults", "create_defaults") and (
                        _tenant_lookup(key, arg.value, columns, relations) or
                        self.parents.lookup(model, key, arg.value, flow)):
                    scoped = True
                elif key in ("pk", "id") and (object_in_hand(arg.value) or self.parents.provenance is not None and
                                              self.parents.provenance.trusted(arg.value, flow)):
                    # re-fetching `self.project.id` (the object was loaded already), or an id
                    # trusted otherwise (a parameter every caller fills with a trusted one)
                    scoped = True
            elif arg.star == "**" and flow.trusted(arg.value):
                scoped = True  # a helper's `**kwargs`, judged at its calls
            elif arg.star == "**":
                keys = _dict_keys(flow.resolve(arg.value))
                if keys is None:
                    opaque = True
                elif any(lookup_is_tenant(k, columns, relations) for k in keys):
                    scoped = True
            elif arg.star == "*":
                opaque = True
            else:
                s, o = self.q_expr(arg.value, columns, relations, flow, model=model)
                scoped, opaque = scoped or s, opaque or o
        return scoped, opaque

    def q_expr(self, node, columns, relations, flow: Flow, depth: int = 0, model: str = "") -> tuple[bool, bool]:
        node = flow.resolve(node)
        if depth > 20:
            return False, True
        if isinstance(node, ast.Call) and call_name(node.func) == "Q":
            scoped = opaque = False
            for arg in call_args(node):
                if arg.keyword is not None:
                    scoped = scoped or _tenant_lookup(arg.keyword, arg.value, columns, relations) or \
                        self.parents.lookup(model, arg.keyword, arg.value, flow)
                elif arg.star == "**":
                    keys = _dict_keys(flow.resolve(arg.value))
                    opaque = opaque or keys is None
                    scoped = scoped or bool(keys and any(lookup_is_tenant(k, columns, relations) for k in keys))
                else:
                    s, o = self.q_expr(arg.value, columns, relations, flow, depth + 1, model)
                    scoped, opaque = scoped or s, opaque or o
            return scoped, opaque and not scoped
        if isinstance(node, ast.BinOp):
            ls, lo = self.q_expr(node.left, columns, relations, flow, depth + 1, model)
            rs, ro = self.q_expr(node.right, columns, relations, flow, depth + 1, model)
            if isinstance(node.op, ast.BitAnd):
                return ls or rs, (lo or ro) and not (ls or rs)
            if isinstance(node.op, ast.BitOr):
                return ls and rs, lo or ro
            return False, True
        if isinstance(node, ast.UnaryOp):
            return False, False
        if isinstance(node, ast.Call) and call_name(node.func) in NOT_OPAQUE:
            return False, False
        return False, True


def _tenant_lookup(key: str, value, columns, relations) -> bool:
    """A lookup on the tenant (`tenant=`, `tenant_id__in=`), or `tenant__isnull=True`: the
    rows of no tenant (shared rows), which selects no other tenant's rows either."""
    if lookup_is_tenant(key, columns, relations):
        return True
    return key.endswith("__isnull") and isinstance(value, ast.Constant) and value.value is True and \
        lookup_is_tenant(key[:-len("__isnull")], columns, relations)


_CHECKED = "the object is then checked by check_object_permissions()"


def _dict_keys(node) -> list[str] | None:
    """Keys of a literal `{...}` or `dict(...)`; None when they cannot be read."""
    if isinstance(node, ast.Dict):
        keys = []
        for key in node.keys:  # None for `**other`
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.append(key.value)
            else:
                return None
        return keys
    if isinstance(node, ast.Call) and call_name(node.func) == "dict":
        if node.args or any(k.arg is None for k in node.keywords):
            return None
        return [k.arg for k in node.keywords]
    return None
