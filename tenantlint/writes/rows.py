"""Rows written to a tenant model without their tenant (TL203).

A write site is one of:

* a Django manager call on a tenant model: `create()`, `bulk_create()`,
  `get_or_create()`/`update_or_create()` (the lookup and `defaults` together);
* a peewee class call: `create()`, `insert()`, `insert_many()`, `get_or_create()`;
* SQLAlchemy `insert(Model)` / `Model.__table__.insert()`, with its `.values(...)` and
  the parameters it is executed with;
* a constructor `Model(...)` whose object is persisted in the same function: `.save()`,
  `session.add()`/`add_all()`/`merge()`, `bulk_create([...])`, directly or through a
  local variable or list.

The tenant is given when a keyword (or a key of a literal `**{...}` / `defaults={...}`)
names a tenant column or relation of the model, when the object's tenant attribute is
assigned before it is persisted (`obj.store = request.store`, also on every element in a
`for` loop), or when the object is created through a relation
(`request.store.product_set.create(...)` never names a tenant model's manager at all;
`org.invoices.append(obj)`, `org.invoice_set.add(obj)`). What cannot be read
(`create(**validated_data)`, `values(row)`) is left alone: the caller usually supplies
the tenant there (DRF's `serializer.save(tenant=...)`)."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from tenantlint.names import dotted
from tenantlint.orm.common import Models
from tenantlint.writes.body import Body
from tenantlint.writes.keys import call_keys, executed_keys, rows_keys, values_keys

MANAGER_CREATES = frozenset({"create", "acreate", "get_or_create", "aget_or_create", "update_or_create",
                             "aupdate_or_create"})
BULK_CREATES = frozenset({"bulk_create", "abulk_create"})
PEEWEE_CREATES = frozenset({"create", "insert", "insert_many", "get_or_create", "replace", "replace_many"})
SAVES = frozenset({"save", "asave"})
SESSION_ADDS = frozenset({"add", "add_all", "merge"})
RELATION_ADDS = frozenset({"append", "add", "extend", "set"})
_UNKNOWN = None  # keys that cannot be read (tenantlint/writes/keys.py)


@dataclass(frozen=True)
class Write:
    node: ast.AST  # where to report
    model: str


class Rows:
    def __init__(self, models: Models, body: Body) -> None:
        self.models = models
        self.body = body

    # -- the model a name stands for -------------------------------------------------
    def _model(self, node: ast.AST, frameworks: tuple[str, ...]) -> str | None:
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        for model in sorted(self.models.models_of(node)):
            info = self.models.info(model)
            orm = self.models.orm(model)
            if info is None or info.framework not in frameworks:
                continue
            if orm is not None and (orm.core or orm.always_scoped):
                continue  # a Table object, or a model whose rows get their tenant elsewhere
            if model in self.models.catalog.tenant_filled:
                continue  # its save()/default/listener fills the tenant in
            if not info.tenant_columns and info.extra.get("chain"):
                continue  # tenant data through its parent: the non-null key it must have ties it
            return model
        return None

    def tenant_names(self, model: str) -> frozenset[str]:
        return self.models.tenant_names(model)

    # -- the sites ------------------------------------------------------------------------
    def writes(self) -> list[Write]:
        found: list[Write] = []
        seen: set[int] = set()
        for call in self.body.calls:
            for write in self._call(call):
                if id(write.node) not in seen:
                    seen.add(id(write.node))
                    found.append(write)
        return found

    def _call(self, call: ast.Call):
        func = call.func
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name in MANAGER_CREATES or name in BULK_CREATES:
                model = self._manager_model(func.value)
                if model is not None:
                    if name in BULK_CREATES:
                        return []  # its constructors are judged as constructors
                    return self._judge_keys(call, model, call_keys(call, self.body))
            if name in PEEWEE_CREATES:
                model = self._model(func.value, ("peewee",))
                if model is not None:
                    keys = call_keys(call, self.body)
                    if name in ("insert_many", "replace_many") or (call.args and name in ("insert", "replace")):
                        keys = rows_keys(call.args[0], self.body) if call.args else _UNKNOWN
                    return self._judge_keys(call, model, keys)
            if name == "insert" and isinstance(func.value, ast.Attribute) and func.value.attr == "__table__":
                model = self._model(func.value.value, ("sqlalchemy",))
                if model is not None:
                    return self._insert(call, model)
        if _sqlalchemy_insert(func, self.models):
            model = self._model(call.args[0], ("sqlalchemy",)) if call.args else None
            if model is not None:
                return self._insert(call, model)
        model = self._model(func, ("django", "sqlalchemy", "peewee"))
        if model is not None:
            return self._constructor(call, model)
        return []

    def _manager_model(self, node: ast.AST) -> str | None:
        """`Invoice.objects`, `Invoice._default_manager`, a custom manager attribute."""
        if not isinstance(node, ast.Attribute):
            return None
        model = self._model(node.value, ("django",))
        if model is None:
            return None
        orm = self.models.orm(model)
        attr = node.attr
        if (orm is not None and attr in orm.managers) or attr in ("objects", "_default_manager", "_base_manager") \
                or attr.endswith(("objects", "manager")):
            return model
        return None

    def _judge_keys(self, call: ast.Call, model: str, keys) -> list[Write]:
        if keys is _UNKNOWN or self.tenant_names(model) & keys:
            return []
        return [Write(call, model)]

    # -- SQLAlchemy insert() ------------------------------------------------------------
    def _insert(self, call: ast.Call, model: str) -> list[Write]:
        """`insert(Model).values(...)`, its chained calls, the name it is assigned to and
        the parameters of `session.execute(stmt, params)`."""
        keys: set[str] = set()
        node: ast.AST = call
        names: set[str] = set()
        saw_values = False
        while True:
            parent = self.body.up(node)
            if isinstance(parent, ast.Attribute) and isinstance(self.body.up(parent), ast.Call) and \
                    self.body.up(parent).func is parent:
                outer = self.body.up(parent)
                if parent.attr == "values":
                    found = values_keys(outer, self.body)
                    if found is _UNKNOWN:
                        return []
                    keys |= found
                    saw_values = True
                elif parent.attr == "from_select":
                    return []
                node = outer
                continue
            if isinstance(parent, ast.Call) and node in parent.args and parent.args[0] is node:
                found = executed_keys(parent, self.body)
                if found is _UNKNOWN:
                    return []
                keys |= found
                saw_values = saw_values or bool(found)
            elif isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
            break
        for name in names:
            found = self._uses_of_statement(name)
            if found is _UNKNOWN:
                return []
            keys |= found
            saw_values = saw_values or bool(found)
        if self.tenant_names(model) & keys:
            return []
        if not saw_values and not names and not isinstance(self.body.up(node), (ast.Call, ast.Await)):
            return []  # a bare insert(Model) built here, filled elsewhere
        return [Write(call, model)]

    def _uses_of_statement(self, name: str):
        """Keys a statement variable gets later: `stmt = stmt.values(...)`, `execute(stmt, p)`."""
        keys: set[str] = set()
        for call in self.body.calls:
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "values" and isinstance(func.value, ast.Name) \
                    and func.value.id == name:
                found = values_keys(call, self.body)
            elif call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == name and \
                    len(call.args) + len(call.keywords) > 1:
                found = executed_keys(call, self.body)
            elif any(isinstance(a, ast.Name) and a.id == name for a in call.args[1:]) or \
                    any(isinstance(k.value, ast.Name) and k.value.id == name for k in call.keywords):
                return _UNKNOWN  # handed to a helper that may add values
            else:
                continue
            if found is _UNKNOWN:
                return _UNKNOWN
            keys |= found
        return keys

    # -- Model(...) then persisted -------------------------------------------------------
    def _constructor(self, call: ast.Call, model: str) -> list[Write]:
        keys = call_keys(call, self.body)
        if keys is _UNKNOWN or call.args or self.tenant_names(model) & keys:
            return []
        holder, element_of = self._holder(call)
        persisted = self._persisted(call, holder, element_of)
        if persisted is None:
            return []
        names = self.tenant_names(model)
        for owner in (holder, element_of):
            if owner is not None and (self._tenant_set(owner, names, persisted) or self._related(owner)):
                return []
        return [Write(call, model)]

    def _holder(self, call: ast.Call) -> tuple[str | None, str | None]:
        """The local name the object is bound to, and the local list it is put in."""
        node: ast.AST = call
        parent = self.body.up(node)
        while isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.ListComp, ast.GeneratorExp, ast.Starred)) or \
                isinstance(parent, ast.comprehension):
            node, parent = parent, self.body.up(parent)
        holder = element_of = None
        if node is not call:
            element_of = _assigned_name(parent, node)
        else:
            holder = _assigned_name(parent, node)
            if holder is None and _is_method_arg(parent, node, ("append", "add", "extend")) and \
                    isinstance(parent.func.value, ast.Name):
                element_of = parent.func.value.id
        if holder is not None:
            element_of = element_of or self._appended_to(holder)
        return holder, element_of

    def _appended_to(self, name: str) -> str | None:
        for call in self.body.calls:
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in ("append", "add", "extend") and \
                    isinstance(func.value, ast.Name) and _mentions(call.args, name):
                return func.value.id
        return None

    def _persisted(self, call: ast.Call, holder: str | None, element_of: str | None) -> int | None:
        """The line where the object is saved or added, or None when it is not here."""
        lines = []
        parent = self.body.up(call)
        if isinstance(parent, ast.Attribute) and parent.attr in SAVES:
            lines.append(call.lineno)
        for site in self.body.calls:
            func = site.func
            if not isinstance(func, ast.Attribute):
                continue
            if func.attr in SAVES and isinstance(func.value, ast.Name) and func.value.id == holder:
                lines.append(site.lineno)
            elif (func.attr in SESSION_ADDS and _is_session(func.value)) or \
                    (func.attr in BULK_CREATES and self._manager_model(func.value)):
                if _contains(site.args, call) or _mentions(site.args, holder) or _mentions(site.args, element_of):
                    lines.append(site.lineno)
        return min(lines) if lines else None

    def _tenant_set(self, name: str, tenant_names: frozenset[str], before: int) -> bool:
        """`name.<tenant> = ...` (or `setattr(name, "<tenant>", ...)`) before line `before`;
        for a list, on the loop variable of a `for` over it."""
        owners = {name}
        for loop in self.body.fors:
            if isinstance(loop.iter, ast.Name) and loop.iter.id == name and isinstance(loop.target, ast.Name):
                owners.add(loop.target.id)
        for stmt in self.body.assigns:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in tenant_names and \
                        isinstance(target.value, ast.Name) and target.value.id in owners and stmt.lineno <= before:
                    return True
        for call in self.body.calls:
            if (dotted(call.func) == "setattr" and len(call.args) >= 2 and isinstance(call.args[0], ast.Name)
                    and call.args[0].id in owners and isinstance(call.args[1], ast.Constant)
                    and call.args[1].value in tenant_names and call.lineno <= before):
                return True
        return False

    def _related(self, name: str) -> bool:
        """Added through a relation of a loaded object: `org.invoices.append(obj)`."""
        for call in self.body.calls:
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in RELATION_ADDS and \
                    isinstance(func.value, ast.Attribute) and not _is_session(func.value) and \
                    _mentions(call.args, name):
                return True
        return False


# -- small shapes -------------------------------------------------------------------------
def _assigned_name(parent: ast.AST | None, node: ast.AST) -> str | None:
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1 and \
            isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and parent.value is node and \
            isinstance(parent.target, ast.Name):
        return parent.target.id
    return None


def _is_method_arg(parent, node, names) -> bool:
    return isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and \
        parent.func.attr in names and node in parent.args


def _is_session(node: ast.AST) -> bool:
    """`session`, `db.session`, `self.db`, `async_session`: what SQLAlchemy adds to."""
    name = dotted(node)
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    return "session" in last or last in ("db", "sess", "uow")


def _mentions(args, name: str | None) -> bool:
    if name is None:
        return False
    return any(isinstance(n, ast.Name) and n.id == name for arg in args for n in ast.walk(arg))


def _contains(args, node: ast.AST) -> bool:
    return any(n is node for arg in args for n in ast.walk(arg))


def _sqlalchemy_insert(func: ast.AST, models: Models) -> bool:
    """`insert`, `sa.insert`, `postgresql.insert` imported from SQLAlchemy or SQLModel."""
    if not isinstance(func, (ast.Name, ast.Attribute)) or (dotted(func) or "").rsplit(".", 1)[-1] != "insert":
        return False
    qualified = models.imports.qualify(func) if models.imports is not None else dotted(func)
    return bool(qualified) and qualified.split(".")[0] in ("sqlalchemy", "sqlmodel")
