"""Django model discovery: fields and their columns, tenant relations, Meta, managers.

A ForeignKey `tenant` has the column `tenant_id` (or its `db_column=`); a model is a
tenant model when one of its columns, own or inherited, is a tenant column. Managers
are recorded by attribute so that a scoping default manager (one whose `get_queryset`
filters by tenant, django-scopes' `ScopedManager`, django-multitenant's) counts.

`Meta.db_table = NAME` names the table by a constant: resolved as for SQLAlchemy's
`__tablename__` (`tenantlint/string_constants.py`, then `tenantlint/discover/table_names.py`
for an imported one); unresolved, the model has no table name rather than the
`<app>_<model>` default, which would not be its table."""
from __future__ import annotations

import ast
from pathlib import PurePosixPath

from tenantlint.catalog import ModelFact
from tenantlint.foreign_keys import django_key
from tenantlint.orm.pyast import (ImportAliases, base_names, const_str, dotted, is_true, kwarg,
                                  lookup_is_tenant, method, top_classes)
from tenantlint.string_constants import module_strings, table_ref as table_ref_of

FK_SUFFIXES = ("ForeignKey", "OneToOneField", "ForeignObject")
NOT_MODELS = ("django.forms", "rest_framework", "django.contrib.admin", "django.views", "django.test",
              "unittest", "pydantic", "graphene", "django_filters", "ninja", "factory")


def django_facts(tree: ast.Module, path: str, module: str, imports: ImportAliases,
                 tenant_columns: frozenset[str]):
    app_label = _app_label(path)
    found: list = []

    def names() -> tuple[dict[str, str], dict[str, str]]:
        if not found:
            found.append(module_strings(tree, module))
        return found[0]

    for cls in top_classes(tree):
        written, qualified = base_names(cls, imports)
        if any(q.startswith(NOT_MODELS) for q in qualified):
            continue
        if _is_manager_class(cls, written):
            yield ModelFact(name=cls.name, qualname=f"{module}.{cls.name}", bases=written, framework="django",
                            path=path, line=cls.lineno, abstract=True,
                            extra={"manager": True, "scoping": _scoping_get_queryset(cls, tenant_columns),
                                   "scoping_methods": _scoping_methods(cls, tenant_columns),
                                   "base_qualnames": qualified})
            continue
        fact = _model_fact(cls, written, qualified, path, module, app_label, imports, names)
        if written or fact.columns:
            yield fact


def _is_manager_class(cls: ast.ClassDef, bases: tuple[str, ...]) -> bool:
    if any(b.rsplit(".", 1)[-1].endswith(("Manager", "ManagerMixin", "QuerySet")) for b in bases):
        return True
    return bool(bases) and method(cls, "get_queryset") is not None and not any(b.endswith("Model") for b in bases)


def _scoping_get_queryset(cls: ast.ClassDef, tenant_columns: frozenset[str]) -> bool:
    fn = method(cls, "get_queryset")
    return fn is not None and _filters_by_tenant(fn, tenant_columns)


def _filters_by_tenant(fn: ast.AST, tenant_columns: frozenset[str]) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "filter":
            if any(kw.arg and lookup_is_tenant(kw.arg, tenant_columns, frozenset({"tenant"})) for kw in node.keywords):
                return True
    return False


def _scoping_methods(cls: ast.ClassDef, tenant_columns: frozenset[str]) -> tuple[str, ...]:
    """Custom manager/queryset methods that filter by tenant (`def for_user(self, user):
    return self.filter(organization=user.organization)`)."""
    return tuple(fn.name for fn in cls.body
                 if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name != "get_queryset"
                 and not fn.name.startswith("__") and _filters_by_tenant(fn, tenant_columns))


def _field_kind(call: ast.Call, imports: ImportAliases) -> str | None:
    """'fk', 'field', 'm2m' or None for a call that is not a model field."""
    name = dotted(call.func) or ""
    last = name.rsplit(".", 1)[-1]
    qualified = imports.qualify(call.func)
    if qualified.startswith(NOT_MODELS) or name.split(".")[0] in ("forms", "serializers", "filters"):
        return None
    if last.endswith(FK_SUFFIXES):
        return "fk"
    if last.endswith("ManyToManyField") or last in ("GenericRelation", "GenericForeignKey"):
        return "m2m"
    if last.endswith("Field"):
        return "field"
    return None


def _manager_class(value: ast.AST, imports: ImportAliases) -> str | None:
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and func.func.attr == "from_queryset":
        return imports.qualify(func.func.value)
    if isinstance(func, ast.Attribute) and func.attr == "as_manager":
        return imports.qualify(func.value)
    name = dotted(func) or ""
    if name.rsplit(".", 1)[-1].endswith("Manager"):
        return imports.qualify(func)
    return None


def _model_fact(cls, written, qualified, path, module, app_label, imports, names=None) -> ModelFact:
    columns: list[str] = []
    relations: dict[str, str] = {}
    indexed: list[str] = []
    managers: dict[str, str] = {}
    field_columns: dict[str, str] = {}
    keys: list[tuple[str, str, bool]] = []  # (column, target as written, nullable)
    meta: dict[str, object] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            meta = _meta(stmt)
            continue
        target, value = _assignment(stmt)
        if target is None or not isinstance(value, ast.Call):
            continue
        kind = _field_kind(value, imports)
        if kind is None:
            manager = _manager_class(value, imports)
            if manager:
                managers[target] = manager
            continue
        if kind == "m2m":
            continue
        column = const_str(kwarg(value, "db_column")) or (f"{target}_id" if kind == "fk" else target)
        columns.append(column)
        field_columns[target] = column
        if kind == "fk":
            relations[target] = column
            key = django_key(value, cls.name)
            if key:
                keys.append((column, *key))
            db_index = kwarg(value, "db_index")
            if not (isinstance(db_index, ast.Constant) and db_index.value is False):
                indexed.append(column)
        elif any(is_true(kwarg(value, k)) for k in ("db_index", "unique", "primary_key")):
            indexed.append(column)
    for first in meta.get("index_leads", ()):
        column = field_columns.get(first, first)
        if column not in indexed:
            indexed.append(column)
    label = meta.get("app_label") or app_label
    extra = {"managers": managers, "base_qualnames": qualified, "model": True}
    if keys:
        extra["foreign_keys"] = tuple(keys)
    if meta.get("default_manager_name"):
        extra["default_manager"] = meta["default_manager_name"]
    table, default = meta.get("db_table"), f"{label}_{cls.name.lower()}" if label else cls.name.lower()
    if "db_table_node" in meta:  # set, but not to a literal
        default = None
        if names is not None:
            table, ref = table_ref_of(meta["db_table_node"], imports, names())
            if ref:
                extra["table_ref"] = ref
    return ModelFact(name=cls.name, qualname=f"{module}.{cls.name}", bases=written, framework="django",
                     path=path, line=cls.lineno, table=table, default_table=default,
                     columns=tuple(columns), relations=relations, indexed_columns=tuple(indexed),
                     abstract=bool(meta.get("abstract")), extra=extra)


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.AST | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return None, None


def _meta(meta_cls: ast.ClassDef) -> dict[str, object]:
    out: dict[str, object] = {}
    leads: list[str] = []
    for stmt in meta_cls.body:
        target, value = _assignment(stmt)
        if target in ("db_table", "app_label", "default_manager_name"):
            if const_str(value):
                out[target] = const_str(value)
            elif target == "db_table" and value is not None:
                out["db_table_node"] = value
        elif target == "abstract":
            out["abstract"] = is_true(value)
        elif target in ("indexes", "constraints", "unique_together", "index_together") and \
                isinstance(value, (ast.List, ast.Tuple)):
            for elt in value.elts:
                fields = None
                if isinstance(elt, ast.Call):
                    fields = kwarg(elt, "fields")
                elif isinstance(elt, (ast.List, ast.Tuple)):
                    fields = elt
                elif const_str(elt) and target == "unique_together":
                    fields = value
                if isinstance(fields, (ast.List, ast.Tuple)) and fields.elts and const_str(fields.elts[0]):
                    leads.append(const_str(fields.elts[0]).lstrip("-"))
    out["index_leads"] = tuple(leads)
    return out


def _app_label(path: str) -> str:
    """The folder holding models.py, or holding the models/ package, else the file's folder."""
    parts = PurePosixPath(path).parts[:-1]
    if parts and parts[-1] == "models":
        parts = parts[:-1]
    return parts[-1] if parts else ""
