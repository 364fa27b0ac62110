"""SQLAlchemy discovery: declarative classes (1.x `Column`, 2.0 `Mapped`/`mapped_column`,
`declared_attr` mixins, Flask-SQLAlchemy `db.Model`, SQLModel `table=True`), Core
`Table(...)` objects (as facts named after the variable holding them), and the models
named by `with_loader_criteria` inside a `do_orm_execute` listener.

`__tablename__ = NAME` names the table by a constant: one of this module is resolved
here (`tenantlint/string_constants.py`), an imported one later
(`tenantlint/discover/table_names.py`); a model whose
`__tablename__` is set but not a known string has no table name (never the class's
default name, which would be a table that does not exist)."""
from __future__ import annotations

import ast
import re

from tenantlint.catalog import ModelFact
from tenantlint.foreign_keys import foreign_key
from tenantlint.orm.pyast import ImportAliases, base_names, const_str, dotted, is_true, kwarg, top_classes
from tenantlint.string_constants import module_strings, table_ref as table_ref_of

COLUMN_CALLS = ("Column", "mapped_column", "column_property")
INDEX_KWARGS = ("index", "primary_key", "unique")


def sqlalchemy_facts(tree: ast.Module, path: str, module: str, imports: ImportAliases,
                     tenant_columns: frozenset[str], bare_classes: bool = True):
    found: list = []

    def names() -> tuple[dict[str, str], dict[str, str]]:
        if not found:
            found.append(module_strings(tree, module))
        return found[0]

    for cls in top_classes(tree):
        fact = _class_fact(cls, path, module, imports, bare_classes, names)
        if fact is not None:
            yield fact
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            table = _core_table(node.value)
            if table is not None:
                name, columns, indexed = table
                var = node.targets[0].id
                yield ModelFact(name=var, qualname=f"{module}.{var}", bases=(), framework="sqlalchemy",
                                path=path, line=node.lineno, table=name, columns=columns,
                                indexed_columns=indexed, extra={"core": True})
    scoped, select_only = _loader_criteria(tree)
    if scoped or select_only:
        yield ModelFact(name=f"<loader-criteria {path}>", qualname="", bases=(), framework="sqlalchemy",
                        path=path, line=1, abstract=True, extra={"loader_criteria": tuple(scoped),
                                                                       "loader_criteria_selects": tuple(select_only)})


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return (dotted(node.func) or "").rsplit(".", 1)[-1]
    return ""


def _column_of(call: ast.Call, default: str) -> tuple[str, bool]:
    """(column name, indexed)."""
    name = const_str(call.args[0]) if call.args else None
    return name or default, any(is_true(kwarg(call, k)) for k in INDEX_KWARGS)


def _is_mapped(annotation: ast.AST | None) -> bool:
    if isinstance(annotation, ast.Subscript):
        return (dotted(annotation.value) or "").rsplit(".", 1)[-1] == "Mapped"
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.startswith("Mapped[")
    return False


def _relationship_target(call: ast.Call, annotation: ast.AST | None) -> str | None:
    if call.args:
        target = const_str(call.args[0]) or dotted(call.args[0])
        if target:
            return target.rsplit(".", 1)[-1]
    if annotation is not None:
        names = re.findall(r"[A-Za-z_]\w*", ast.unparse(annotation))
        names = [n for n in names if n not in ("Mapped", "list", "List", "Optional", "set", "Set", "WriteOnlyMapped",
                                               "DynamicMapped")]
        if names:
            return names[-1]
    return None


def _class_fact(cls: ast.ClassDef, path, module, imports: ImportAliases, bare_classes: bool,
                names=None) -> ModelFact | None:
    written, qualified = base_names(cls, imports)
    columns: list[str] = []
    indexed: list[str] = []
    rels: dict[str, str] = {}  # relationship name -> target class
    table = None
    named = False  # `__tablename__` is set, to a literal or not
    table_ref = None  # the qualified name of an imported constant holding it
    abstract = False
    has_table_obj = False
    own_pk = False
    foreign: list[tuple[str, str, bool]] = []  # (column, referenced table, nullable)
    sqlmodel_table = any(k.arg == "table" and is_true(k.value) for k in cls.keywords)
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any((dotted(d.func if isinstance(d, ast.Call) else d) or "").split(".")[0] == "declared_attr"
                   or (dotted(d) or "").startswith("declared_attr") for d in stmt.decorator_list):
                for ret in ast.walk(stmt):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Call):
                        kind = _call_name(ret.value)
                        if kind in COLUMN_CALLS:
                            col, idx = _column_of(ret.value, stmt.name)
                            columns.append(col)
                            if idx:
                                indexed.append(col)
                        elif kind == "relationship":
                            target = _relationship_target(ret.value, None)
                            if target:
                                rels[stmt.name] = target
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value, annotation = stmt.targets[0].id, stmt.value, None
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            target, value, annotation = stmt.target.id, stmt.value, stmt.annotation
        else:
            continue
        if target == "__tablename__":
            table = const_str(value)
            named = value is not None
            if table is None and value is not None and names is not None:
                table, table_ref = table_ref_of(value, imports, names())
            continue
        if target == "__abstract__":
            abstract = is_true(value)
            continue
        if target == "__table__":
            core = _core_table(value) if value is not None else None
            if core:
                table, cols, idx = core
                columns.extend(cols)
                indexed.extend(idx)
                has_table_obj = True
            continue
        if target == "__table_args__" and value is not None:
            for call in ast.walk(value):
                if _call_name(call) == "Index" and len(call.args) > 1:
                    lead = call.args[1]
                    lead_name = const_str(lead) or (lead.attr if isinstance(lead, ast.Attribute) else None)
                    if lead_name:
                        indexed.append(lead_name)
            continue
        kind = _call_name(value) if value is not None else ""
        if kind in COLUMN_CALLS:
            col, idx = _column_of(value, target)
            columns.append(col)
            own_pk = own_pk or is_true(kwarg(value, "primary_key"))
            key = foreign_key(value, annotation)
            if key:
                foreign.append((col, *key))
            if idx:
                indexed.append(col)
        elif kind in ("relationship", "Relationship"):
            rel_target = _relationship_target(value, annotation)
            if rel_target:
                rels[target] = rel_target
        elif (_is_mapped(annotation) or sqlmodel_table and annotation is not None) and not target.startswith("_"):
            columns.append(target)
            if kind == "Field" and any(is_true(kwarg(value, k)) for k in INDEX_KWARGS):
                indexed.append(target)
    if not (columns or table or named or rels or abstract or has_table_obj or (bare_classes and written)):
        return None
    relations = {name: f"{name}_id" for name in rels if f"{name}_id" in columns}
    if not written and table is None and not has_table_obj:
        abstract = True  # a plain mixin: what maps it is its subclasses
    default_table = None
    if table is None and not named and own_pk and any(q.endswith(".Model") or q == "Model" for q in qualified):
        default_table = _snake(cls.name)  # Flask-SQLAlchemy's default name
    if table is None and not named and sqlmodel_table:
        default_table = cls.name.lower()
    extra = {"relationships": rels, "base_qualnames": qualified}
    if table_ref:
        extra["table_ref"] = table_ref
    if foreign:
        extra["foreign_keys"] = tuple(foreign)
    return ModelFact(name=cls.name, qualname=f"{module}.{cls.name}", bases=written, framework="sqlalchemy",
                     path=path, line=cls.lineno, table=table, default_table=default_table,
                     columns=tuple(columns), relations=relations, indexed_columns=tuple(indexed),
                     abstract=abstract, extra=extra)


def _snake(name: str) -> str:
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name).lower()


def _core_table(value: ast.AST) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    if not (isinstance(value, ast.Call) and _call_name(value) == "Table" and value.args):
        return None
    name = const_str(value.args[0])
    if not name:
        return None
    columns, indexed = [], []
    for arg in value.args[1:]:
        kind = _call_name(arg)
        if kind == "Column" and arg.args and const_str(arg.args[0]):
            col, idx = _column_of(arg, "")
            columns.append(col)
            if idx:
                indexed.append(col)
        elif kind in ("Index", "PrimaryKeyConstraint", "UniqueConstraint"):
            leads = arg.args[1:] if kind == "Index" else arg.args
            if leads and const_str(leads[0]):
                indexed.append(const_str(leads[0]))
    return name, tuple(columns), tuple(indexed)


def _loader_criteria(tree: ast.Module) -> tuple[list[str], list[str]]:
    """Models named by with_loader_criteria in functions registered for do_orm_execute:
    (for every statement, for SELECTs only). A criteria added under `if state.is_select:`
    leaves ORM bulk update()/delete() unscoped: the listener's own condition is read."""
    listeners: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "listen" and \
                any(const_str(a) == "do_orm_execute" for a in node.args) and len(node.args) >= 3:
            name = dotted(node.args[2])
            if name:
                listeners.add(name.rsplit(".", 1)[-1])
    names: list[str] = []
    selects: list[str] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        registered = fn.name in listeners or any(
            isinstance(d, ast.Call) and _call_name(d) == "listens_for"
            and any(const_str(a) == "do_orm_execute" for a in d.args) for d in fn.decorator_list)
        if not registered:
            continue
        for call, only_selects in _criteria_calls(fn.body, False):
            name = dotted(call.args[0])
            if name:
                (selects if only_selects else names).append(name.rsplit(".", 1)[-1])
    return names, selects


def _criteria_calls(body, only_selects: bool):
    """with_loader_criteria(...) calls, and whether an enclosing `if` lets only SELECTs
    through (`if state.is_select:`, or its `else` after `if not state.is_select`/`is_update`)."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            test = ast.unparse(stmt.test)
            selects = "is_select" in test and not test.lstrip().startswith("not ")
            negated = test.lstrip().startswith("not ") and "is_select" in test or "is_update" in test or \
                "is_delete" in test
            yield from _criteria_calls(stmt.body, only_selects or selects)
            yield from _criteria_calls(stmt.orelse, only_selects or negated)
            if negated and stmt.body and isinstance(stmt.body[-1], (ast.Return, ast.Raise)):
                only_selects = True  # `if not state.is_select: return`: what follows sees SELECTs only
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and _call_name(node) == "with_loader_criteria" and node.args:
                yield node, only_selects
