"""peewee model discovery: fields and their columns, foreign keys, `Meta.table_name`.

A class in a file that imports peewee (or playhouse) with a base is a candidate model;
its bases are resolved across files by the catalog like the other ORMs'. A field's
column is its name, or `column_name=`; a `ForeignKeyField` named `tenant` has the
column `tenant_id` (peewee's default). The table is `Meta.table_name`, else the class
name in lower case (peewee's legacy default)."""
from __future__ import annotations

import ast

from tenantlint.catalog import ModelFact
from tenantlint.foreign_keys import peewee_key
from tenantlint.orm.pyast import ImportAliases, base_names, const_str, is_true, kwarg, top_classes

_NOT_FIELDS = ("Meta", "DoesNotExist")


def peewee_facts(tree: ast.Module, path: str, module: str, imports: ImportAliases):
    for cls in top_classes(tree):
        written, qualified = base_names(cls, imports)
        if not written:
            continue
        columns: list[str] = []
        relations: dict[str, str] = {}
        indexed: list[str] = []
        keys: list[tuple[str, str, bool]] = []  # (column, target class, nullable)
        table = None
        for stmt in cls.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                table = _table_name(stmt) or table
                continue
            target, value = _assignment(stmt)
            if target is None or not isinstance(value, ast.Call):
                continue
            kind = (imports.qualify(value.func) or "").rsplit(".", 1)[-1]
            if not kind.endswith("Field") or target in _NOT_FIELDS:
                continue
            column = const_str(kwarg(value, "column_name"))
            if kind in ("ForeignKeyField", "DeferredForeignKey"):
                column = column or f"{target}_id"
                relations[target] = column
                indexed.append(column)  # peewee indexes foreign keys by default
                key = peewee_key(value, cls.name)
                if key:
                    keys.append((column, *key))
            column = column or target
            columns.append(column)
            if is_true(kwarg(value, "index")) or is_true(kwarg(value, "unique")) or is_true(kwarg(value, "primary_key")):
                indexed.append(column)
        yield ModelFact(name=cls.name, qualname=f"{module}.{cls.name}", bases=written, framework="peewee",
                        path=path, line=cls.lineno, table=table, default_table=cls.name.lower(),
                        columns=tuple(columns), relations=relations, indexed_columns=tuple(indexed),
                        extra={"base_qualnames": qualified, **({"foreign_keys": tuple(keys)} if keys else {})})


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.AST | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def _table_name(meta: ast.ClassDef) -> str | None:
    for stmt in meta.body:
        target, value = _assignment(stmt)
        if target in ("table_name", "db_table"):
            return const_str(value)
    return None
