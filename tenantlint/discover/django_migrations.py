"""Django migration discovery: `CreateModel` (fields, `db_table`, indexes, unique
constraints), `AddField`, `AddIndex`, `AddConstraint`, `AlterUniqueTogether`,
`AlterIndexTogether`, `AlterModelTable`, `RenameModel` and `DeleteModel`. SQL in `RunSQL`
is read by `ddl_strings`.

A model's table is `Meta.db_table`, else `<app_label>_<model>` with the app label taken
from the folder holding `migrations/`. Later operations name the model, not the table,
and the `db_table` may be set in another file: they use the default name, and an `alias`
fact (`CreateModel` with a `db_table`, `AlterModelTable`) says which table the model maps
to from there on; the catalog replays it in migration order, moving the table the model
mapped to until then (AlterModelTable renames it). `RenameModel` is a `rename_model` fact
(default names, old -> new: the table follows only when it had the default name);
`DeleteModel` a `drop_table` of the model's default name. Operations in the
`state_operations` of `SeparateDatabaseAndState` change no table: those that would drop
or rename one (or a column) are skipped.

A ForeignKey `tenant` gives the column `tenant_id` and is indexed unless
`db_index=False`; `primary_key`, `unique` and `db_index` fields lead an index too.

`AddField` adds a column (a ForeignKey `tenant` makes the model a tenant model from that
migration on); a relation's target and nullability are its foreign key (`to="app.Model"`
as `app_model`, the default table, mapped by the catalog's replay), which `AlterField`
changes; `RemoveField` and `RenameField` are column changes that the catalog replays
in migration order. They name only the field, whose column is `<name>` or, for a
relation, `<name>_id`: a removal drops both names, a rename renames whichever exists."""
from __future__ import annotations

import ast
from typing import Iterable, Iterator

from tenantlint.catalog import SchemaFact, TableFact
from tenantlint.config import Settings
from tenantlint.discover.alembic_ops import argument, call_name, flag, imports, string, strings
from tenantlint.foreign_keys import django_key, migration_target
from tenantlint.sql.types import DdlFact

_RELATIONS = {"ForeignKey": True, "OneToOneField": True, "ForeignObject": False}
_OPERATIONS = {"CreateModel", "AddField", "AlterField", "RemoveField", "RenameField", "AddIndex", "AddConstraint",
               "AlterUniqueTogether", "AlterIndexTogether", "AlterModelTable", "RenameModel", "DeleteModel"}
# Operations that take something away: not read from `state_operations`.
_DESTRUCTIVE = {"RemoveField", "RenameField", "AlterModelTable", "RenameModel", "DeleteModel"}


def app_label(path: str) -> str | None:
    parts = path.split("/")
    if "migrations" in parts[1:]:
        index = len(parts) - 1 - parts[::-1].index("migrations")
        return parts[index - 1] if index >= 1 else None
    return None


def is_relation(kind: str) -> bool:
    """A relation field, Django's or a library's subclass of one (`AutoOneToOneField`,
    `TreeForeignKey`): its column is `<name>_id`."""
    return kind in _RELATIONS or kind.endswith(("ForeignKey", "OneToOneField"))


def field_column(name: str, field: ast.AST) -> tuple[str | None, bool]:
    """(column, leads an index) of a model field; None for fields with no column."""
    kind = call_name(field) if isinstance(field, ast.Call) else ""
    if not kind or kind in ("ManyToManyField", "GenericForeignKey", "GenericRelation"):
        return None, False
    db_column = string(argument(field, 99, "db_column")) if isinstance(field, ast.Call) else None
    if is_relation(kind):
        column = db_column or f"{name}_id"
        indexed = kind.endswith("OneToOneField") or flag(field, "db_index") is not False or \
            bool(flag(field, "unique")) or bool(flag(field, "primary_key"))
        return column.lower(), indexed
    indexed = any(flag(field, k) for k in ("primary_key", "unique", "db_index"))
    return (db_column or name).lower(), indexed


class DjangoMigrations:
    triggers = tuple(op.encode() for op in sorted(_OPERATIONS))

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable:
        if not any(full.startswith("django.db") for full in imports(tree).values()):
            return []
        tenant_columns = {c.lower() for c in settings.tenant_columns}
        return list(_Reader(path, app_label(path), tenant_columns).run(tree))


class _Reader:
    def __init__(self, path: str, app: str | None, tenant_columns: set[str]) -> None:
        self.path = path
        self.app = app
        self.tenant_columns = tenant_columns

    def default_table(self, model: str) -> str:
        return f"{self.app}_{model.lower()}" if self.app else model.lower()

    def column(self, field: str, known: dict[str, str]) -> str:
        """A field name in `fields=[...]` as its column: known fields by their column;
        `tenant` as `tenant_id` when that is a tenant column (a relation, necessarily)."""
        field = field.lstrip("-").lower()
        if field in known:
            return known[field]
        if field not in self.tenant_columns and f"{field}_id" in self.tenant_columns:
            return f"{field}_id"
        return field

    def run(self, tree: ast.Module) -> Iterator:
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]  # one walk, ast.walk's order
        state_only = {id(n) for call in calls if call_name(call) == "SeparateDatabaseAndState"
                      for kw in call.keywords if kw.arg == "state_operations" for n in ast.walk(kw.value)}
        for node in calls:
            if call_name(node) in _OPERATIONS:
                if id(node) in state_only and call_name(node) in _DESTRUCTIVE:
                    continue
                try:
                    yield from getattr(self, call_name(node))(node)
                except (AttributeError, TypeError, ValueError):
                    continue

    def index(self, table: str, columns: list[str], node: ast.AST) -> SchemaFact:
        return SchemaFact(DdlFact("index", table, tuple(columns)), self.path, node.lineno)

    def CreateModel(self, node: ast.Call) -> Iterator:
        model = string(argument(node, 0, "name"))
        fields = argument(node, 1, "fields")
        options = argument(node, 2, "options")
        if not model or not isinstance(fields, (ast.List, ast.Tuple)):
            return
        opts = _dict(options)
        default = self.default_table(model)
        table = (string(opts.get("db_table")) or default).lower()
        if table != default:
            yield SchemaFact(DdlFact("alias", table, extra={"alias": default}), self.path, node.lineno)
        columns: list[str] = []
        known: dict[str, str] = {}
        leading: list[str] = []
        composite: list[str] = []
        keys: list[tuple[str, str, bool]] = []
        for item in fields.elts:
            if not (isinstance(item, ast.Tuple) and len(item.elts) >= 2 and string(item.elts[0])):
                continue
            name, field = string(item.elts[0]), item.elts[1]
            if isinstance(field, ast.Call) and call_name(field) == "CompositePrimaryKey":
                composite = [string(a) or "" for a in field.args]
                continue
            column, indexed = field_column(name, field)
            if column is None:
                continue
            known[name.lower()] = column
            columns.append(column)
            if indexed:
                leading.append(column)
            key = self.key(model, column, field)
            if key:
                keys.append(key)
        if composite and composite[0]:
            leading.append(self.column(composite[0], known))
        for group in self.key_groups(opts):
            if group and group[0]:
                leading.append(self.column(group[0], known))
        yield TableFact(name=table, columns=tuple(columns), path=self.path, line=node.lineno,
                        origin="django-migration", end_line=node.end_lineno or node.lineno,
                        indexed_columns=tuple(dict.fromkeys(leading)), foreign_keys=tuple(keys))

    def key(self, model: str, column: str, field: ast.AST) -> tuple[str, str, bool] | None:
        """(column, referenced default table, nullable) of a relation field."""
        if not (isinstance(field, ast.Call) and is_relation(call_name(field))):
            return None
        key = django_key(field, model)
        return (column, migration_target(key[0], self.app), key[1]) if key else None

    def key_groups(self, opts: dict[str, ast.AST]) -> Iterator[list[str]]:
        """Field lists of `indexes`, unique `constraints`, `unique_together`, `index_together`."""
        for key in ("indexes", "constraints"):
            items = opts.get(key)
            for item in items.elts if isinstance(items, (ast.List, ast.Tuple)) else ():
                group = self.constraint_fields(item)
                if group:
                    yield group
        for key in ("unique_together", "index_together"):
            yield from _together(opts.get(key))

    @staticmethod
    def constraint_fields(item: ast.AST) -> list[str] | None:
        if not isinstance(item, ast.Call) or call_name(item) not in ("Index", "UniqueConstraint"):
            return None
        fields = strings(argument(item, 99, "fields"))
        if fields:
            return fields
        return [""] if item.args else None  # an expression index leads with no column

    def model_table(self, node: ast.Call, index: int = 0, keyword: str = "model_name") -> str | None:
        model = string(argument(node, index, keyword))
        return self.default_table(model) if model else None

    def AddField(self, node: ast.Call) -> Iterator:
        table = self.model_table(node)
        name = string(argument(node, 1, "name"))
        field = argument(node, 2, "field")
        if not (table and name and field is not None):
            return
        column, indexed = field_column(name, field)
        if column:
            key = self.key(string(argument(node, 0, "model_name")) or "", column, field)
            yield TableFact(name=table, columns=(column,), path=self.path, line=node.lineno, origin="django-alter",
                            end_line=node.end_lineno or node.lineno, indexed_columns=(column,) if indexed else (),
                            foreign_keys=(key,) if key else ())

    def AlterField(self, node: ast.Call) -> Iterator:
        """A relation's new target and nullability (the column itself stays)."""
        table = self.model_table(node)
        name = string(argument(node, 1, "name"))
        field = argument(node, 2, "field")
        column = field_column(name, field)[0] if table and name and field is not None else None
        key = self.key(string(argument(node, 0, "model_name")) or "", column, field) if column else None
        if key:
            yield SchemaFact(DdlFact("foreign_key", table, (column,), extra={"target": key[1], "nullable": key[2]}),
                             self.path, node.lineno)

    def RemoveField(self, node: ast.Call) -> Iterator:
        table = self.model_table(node)
        name = string(argument(node, 1, "name"))
        if table and name:
            yield SchemaFact(DdlFact("drop_column", table, (name.lower(), f"{name.lower()}_id")),
                             self.path, node.lineno)

    def RenameField(self, node: ast.Call) -> Iterator:
        table = self.model_table(node)
        old = string(argument(node, 1, "old_name"))
        new = string(argument(node, 2, "new_name"))
        if table and old and new:
            old, new = old.lower(), new.lower()
            yield SchemaFact(DdlFact("rename_column", table, (old, new, f"{old}_id", f"{new}_id"),
                                     extra={"if_present": "true"}), self.path, node.lineno)

    def AddIndex(self, node: ast.Call) -> Iterator:
        yield from self._add_key(node, "index")

    def AddConstraint(self, node: ast.Call) -> Iterator:
        yield from self._add_key(node, "constraint")

    def _add_key(self, node: ast.Call, keyword: str) -> Iterator:
        table = self.model_table(node)
        group = self.constraint_fields(argument(node, 1, keyword))
        if table and group:
            yield self.index(table, [self.column(group[0], {})] + group[1:], node)

    def AlterUniqueTogether(self, node: ast.Call) -> Iterator:
        table = self.model_table(node, 0, "name")
        for group in _together(argument(node, 1, "unique_together")) if table else ():
            yield self.index(table, [self.column(group[0], {})], node)

    def AlterIndexTogether(self, node: ast.Call) -> Iterator:
        table = self.model_table(node, 0, "name")
        for group in _together(argument(node, 1, "index_together")) if table else ():
            yield self.index(table, [self.column(group[0], {})], node)

    def AlterModelTable(self, node: ast.Call) -> Iterator:
        """`table=None` (or the default name) maps the model back to its default table."""
        default = self.model_table(node, 0, "name")
        table = argument(node, 1, "table")
        if default and (string(table) or (isinstance(table, ast.Constant) and table.value is None)):
            new = (string(table) or default).lower()
            yield SchemaFact(DdlFact("alias", new, extra={"alias": default}), self.path, node.lineno)

    def RenameModel(self, node: ast.Call) -> Iterator:
        old = self.model_table(node, 0, "old_name")
        new = self.model_table(node, 1, "new_name")
        if old and new and old != new:
            yield SchemaFact(DdlFact("rename_model", old, (new,)), self.path, node.lineno)

    def DeleteModel(self, node: ast.Call) -> Iterator:
        table = self.model_table(node, 0, "name")
        if table:
            yield SchemaFact(DdlFact("drop_table", table), self.path, node.lineno)


def _dict(node: ast.AST | None) -> dict[str, ast.AST]:
    if not isinstance(node, ast.Dict):
        return {}
    return {string(k): v for k, v in zip(node.keys, node.values) if string(k)}


def _together(node: ast.AST | None) -> Iterator[list[str]]:
    """`unique_together`: a set/tuple of tuples of field names, or one tuple."""
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return
    if node.elts and all(string(e) is not None for e in node.elts):
        yield [string(e).lower() for e in node.elts]
        return
    for group in node.elts:
        fields = strings(group)
        if fields:
            yield fields


DISCOVERERS = (DjangoMigrations(),)
