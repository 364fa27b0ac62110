"""Alembic migration discovery (`op.create_table`, `op.create_index`, `op.add_column`,
`batch_alter_table`) and SQLAlchemy Core `Table(...)` definitions, into catalog facts.

SQL text in `op.execute(...)` is read by `ddl_strings`. Code in `downgrade()` describes
the schema before this migration, so it is skipped: the catalog is the upgraded schema.
A column added to an existing table (`add_column`) makes it a tenant table but is not
its definition: it is recorded with an `-alter` origin, never reported at. `drop_column`
and `alter_column(..., new_column_name=...)` (on `op` or a batch) are column changes that
the catalog replays in revision order: dropping the tenant column ends a tenant table,
renaming a column to it makes one. So are `drop_table` and `rename_table`: a dropped
table no longer exists, a renamed one lives on under its new name. A table name may be
a loop variable over literal names (`for t in ("a", "b"): op.drop_table(t)`).

Foreign keys (`sa.ForeignKey` in a column, `ForeignKeyConstraint`, `create_foreign_key`)
and a column's nullability (`nullable=`, `alter_column(..., nullable=False)`) go into the
catalog's key graph (tenantlint/foreign_keys.py)."""
from __future__ import annotations

import ast
from typing import Iterable, Iterator

from tenantlint.catalog import SchemaFact, TableFact
from tenantlint.config import Settings
from tenantlint.foreign_keys import constraint_keys, foreign_key
from tenantlint.orm.pyast import dotted
from tenantlint.sql.types import DdlFact


def string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def call_name(node: ast.AST) -> str:
    """The last component of a call's callee (`op.create_table` -> `create_table`)."""
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def receiver(node: ast.Call) -> str:
    """The dotted receiver of a method call (`op` in `op.create_table`, `alembic.op`)."""
    func = node.func
    return (dotted(func.value) or "") if isinstance(func, ast.Attribute) else ""


def argument(node: ast.Call, index: int, keyword: str) -> ast.AST | None:
    for kw in node.keywords:
        if kw.arg == keyword:
            return kw.value
    return node.args[index] if len(node.args) > index and not isinstance(node.args[index], ast.Starred) else None


def flag(node: ast.Call, keyword: str) -> bool | None:
    for kw in node.keywords:
        if kw.arg == keyword and isinstance(kw.value, ast.Constant):
            return bool(kw.value.value)
    return None


def strings(node: ast.AST | None) -> list[str] | None:
    """A list/tuple of names; non-literal elements (expressions) become "" so that an
    expression never counts as a leading column. A single string is a one-item list."""
    if string(node) is not None:
        return [string(node).lower()]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [(string(e) or "").lower() for e in node.elts]
    return None


def imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted path, from every import in the file."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    out.setdefault(alias.name.split(".")[0], alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def is_downgrade(node: ast.AST) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("downgrade")


_COLUMN = ("Column",)
_KEYS = ("PrimaryKeyConstraint", "UniqueConstraint")


def column_of(node: ast.AST) -> tuple[str, bool] | None:
    """(name, leads an index) of a `sa.Column("name", ...)` call, else None."""
    if not (isinstance(node, ast.Call) and call_name(node) in _COLUMN):
        return None
    name = string(argument(node, 0, "name"))
    if not name:
        return None
    indexed = bool(flag(node, "index") or flag(node, "unique"))
    return name.lower(), indexed


def table_keys(args: Iterable[ast.AST]) -> tuple[tuple[str, str, bool], ...]:
    """(column, referenced table, nullable) of `create_table`/`Table`/`add_column` items."""
    keys: dict[str, tuple[str, bool]] = {}
    nullable: dict[str, bool] = {}
    constraints = []
    for item in args:
        col = column_of(item)
        if col:
            key = foreign_key(item, None)
            nullable[col[0]] = key[1] if key else not (flag(item, "primary_key") or flag(item, "nullable") is False)
            if key:
                keys[col[0]] = (_short(key[0]), key[1])
        elif isinstance(item, ast.Call):
            constraints += constraint_keys(item)
    for column, target in constraints:
        keys.setdefault(column, (_short(target), nullable.get(column, True)))
    return tuple((c, t, n) for c, (t, n) in keys.items())


def table_parts(args: Iterable[ast.AST]) -> tuple[list[str], list[str]]:
    """(columns, columns leading an index) of `create_table`/`Table` items: columns with
    `index=True`/`unique=True`, the first `primary_key=True` column (a composite primary
    key is in column order), and the first column of PK/unique constraints and indexes."""
    columns: list[str] = []
    leading: list[str] = []
    first_pk = None
    for item in args:
        col = column_of(item)
        if col:
            columns.append(col[0])
            if col[1]:
                leading.append(col[0])
            if first_pk is None and flag(item, "primary_key"):
                first_pk = col[0]
            continue
        if not isinstance(item, ast.Call):
            continue
        kind = call_name(item)
        if kind in _KEYS:
            cols = [string(a) for a in item.args]
            if cols and cols[0]:
                leading.append(cols[0].lower())
            if kind == "PrimaryKeyConstraint":
                first_pk = first_pk or ""
        elif kind == "Index":
            cols = [string(a) for a in item.args[1:]]
            if cols and cols[0]:
                leading.append(cols[0].lower())
    if first_pk:
        leading.append(first_pk)
    return columns, list(dict.fromkeys(leading))


class AlembicOps:
    triggers = (b"create_table", b"create_index", b"Table(", b"batch_alter_table", b"add_column",
                b"create_primary_key", b"create_unique_constraint", b"drop_column", b"alter_column",
                b"drop_table", b"rename_table", b"down_revision", b"create_foreign_key")

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable:
        names = imports(tree)
        ops = {n for n, full in names.items() if full == "alembic.op"}
        ops |= {f"{n}.op" for n, full in names.items() if full == "alembic"}
        sqlalchemy = {n for n, full in names.items() if full.split(".")[0] == "sqlalchemy"}
        if not ops and not sqlalchemy:
            # A revision with no operation (a release marker: `upgrade(): pass`) imports
            # nothing, yet links the revisions before it to those after it.
            return _revision(tree, path, marker=True)
        facts = list(_Walker(path, ops, sqlalchemy, names).run(tree))
        return facts + _revision(tree, path) if ops else facts


def _revision(tree: ast.Module, path: str, marker: bool = False) -> list[SchemaFact]:
    """`revision` / `down_revision` of a migration, so that the catalog reads Alembic's
    files in revision order (their names are usually hashes, not sequence numbers).
    `marker`: a file without Alembic imports counts only with both names and an
    `upgrade()` function."""
    if marker and not any(isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == "upgrade"
                          for f in tree.body):
        return []
    values: dict[str, list[str]] = {}
    for stmt in tree.body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else \
            stmt.target if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else None
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found = strings(stmt.value) or []
            values[target.id] = [v for v in found if v]
    if not values.get("revision") or (marker and "down_revision" not in values):
        return []
    extra = {"revision": values["revision"][0], "down": ",".join(values.get("down_revision", []))}
    return [SchemaFact(DdlFact("revision", "", extra=extra), path, 0)]


class _Walker:
    def __init__(self, path: str, ops: set[str], sqlalchemy: set[str], names: dict[str, str]) -> None:
        self.path = path
        self.ops = ops
        self.sqlalchemy = sqlalchemy
        self.names = names

    def run(self, tree: ast.Module) -> Iterator:
        yield from self.visit(tree, {}, _literal_names(tree.body, {}))

    def visit(self, node: ast.AST, batches: dict[str, str], loops: dict[str, list]) -> Iterator:
        if is_downgrade(node):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            loops = {**loops, **_literal_names(node.body, loops)}
        if isinstance(node, (ast.For, ast.AsyncFor)):
            loops = {**loops, **_loop_names(node.target, node.iter, loops)}
        if isinstance(node, (ast.With, ast.AsyncWith)):
            batches = dict(batches)
            for item in node.items:
                call = item.context_expr
                if (isinstance(call, ast.Call) and call_name(call) == "batch_alter_table"
                        and receiver(call) in self.ops and isinstance(item.optional_vars, ast.Name)):
                    table = string(argument(call, 0, "table_name"))
                    if table:
                        batches[item.optional_vars.id] = table
        if isinstance(node, ast.Call):
            yield from self.call(node, batches, loops)
        for child in ast.iter_child_nodes(node):
            yield from self.visit(child, batches, loops)

    def _table_call(self, node: ast.Call) -> bool:
        """`sa.Table(...)` / `Table(...)` imported from SQLAlchemy (not `sa.table()`)."""
        if call_name(node) != "Table":
            return False
        if isinstance(node.func, ast.Name):
            return self.names.get("Table", "").startswith("sqlalchemy")
        return receiver(node).split(".")[0] in self.sqlalchemy

    def call(self, node: ast.Call, batches: dict[str, str], loops: dict[str, list]) -> Iterator:
        name = call_name(node)
        recv = receiver(node)
        if self._table_call(node):
            name_node = argument(node, 0, "name")
            table = string(name_node)
            items = [a for a in node.args if a is not name_node]
            columns, leading = table_parts(items)
            if table and columns:
                yield self.table(table, columns, leading, node, "sqlalchemy", table_keys(items))
            return
        if recv in self.ops:
            table_arg = 1
        elif recv in batches:
            table_arg = None
        else:
            return
        table = batches[recv] if table_arg is None else None
        if name == "create_table" and table_arg is not None:
            name_node = argument(node, 0, "table_name")
            table = string(name_node)
            items = [a for a in node.args if a is not name_node]
            columns, leading = table_parts(items)
            if table:
                yield self.table(table, columns, leading, node, "alembic", table_keys(items))
        elif name == "add_column":
            if table_arg is not None:
                table = string(argument(node, 0, "table_name"))
            column = argument(node, 1 if table_arg is not None else 0, "column")
            col = column_of(column) if column is not None else None
            if table and col:
                leading = [col[0]] if col[1] or flag(column, "primary_key") else []
                yield self.table(table, [col[0]], leading, node, "alembic-alter", table_keys([column]))
        elif name in ("drop_column", "alter_column"):
            if table_arg is not None:
                table = string(argument(node, 0, "table_name"))
            column = string(argument(node, 1 if table_arg is not None else 0, "column_name"))
            new = string(argument(node, 99, "new_column_name")) if name == "alter_column" else None
            if table and column and (new or name == "drop_column"):
                kind, columns = ("rename_column", (column, new)) if new else ("drop_column", (column,))
                yield SchemaFact(DdlFact(kind, table.lower().rsplit(".", 1)[-1], tuple(c.lower() for c in columns)),
                                 self.path, node.lineno)
            if table and column and name == "alter_column" and flag(node, "nullable") is not None:
                yield SchemaFact(DdlFact("foreign_key", _short(table), ((new or column).lower(),),
                                         extra={"nullable": flag(node, "nullable")}), self.path, node.lineno)
        elif name == "create_foreign_key":
            # create_foreign_key(name, source_table, referent_table, local_cols, remote_cols)
            source = string(argument(node, 1, "source_table")) if table_arg is not None else table
            referent = string(argument(node, 2 if table_arg is not None else 1, "referent_table"))
            local = strings(argument(node, 3 if table_arg is not None else 2, "local_cols"))
            if source and referent and local and local[0]:
                yield SchemaFact(DdlFact("foreign_key", _short(source), (local[0],), extra={"target": _short(referent)}),
                                 self.path, node.lineno)
        elif name == "drop_table" and table_arg is not None:
            for table in _names(argument(node, 0, "table_name"), loops):
                yield SchemaFact(DdlFact("drop_table", _short(table)), self.path, node.lineno)
        elif name == "rename_table" and table_arg is not None:
            old, new = argument(node, 0, "old_table_name"), argument(node, 1, "new_table_name")
            for old_name, new_name in _pairs(old, new, loops):
                yield SchemaFact(DdlFact("rename_table", _short(old_name), (_short(new_name),)), self.path,
                                 node.lineno)
        elif name in ("create_index", "create_primary_key", "create_unique_constraint"):
            if table_arg is not None:
                table = string(argument(node, table_arg, "table_name"))
            cols = strings(argument(node, 2 if table_arg is not None else 1, "columns"))
            if table and cols:
                yield SchemaFact(DdlFact("index", table.lower().rsplit(".", 1)[-1], tuple(cols)), self.path,
                                 node.lineno)

    def table(self, name: str, columns: list[str], leading: list[str], node: ast.Call, origin: str,
              keys: tuple = ()) -> TableFact:
        return TableFact(name=name.lower().rsplit(".", 1)[-1], columns=tuple(columns), path=self.path,
                         line=node.lineno, origin=origin, end_line=node.end_lineno or node.lineno,
                         indexed_columns=tuple(leading), foreign_keys=keys)


def _short(name: str) -> str:
    return name.lower().rsplit(".", 1)[-1]


def _literal(node: ast.AST | None, loops: dict[str, list]) -> list | None:
    """The values of a literal list/tuple/set of strings or of string tuples (or of a name
    bound to one), else None."""
    if isinstance(node, ast.Name):
        return loops.get(node.id)
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)) or not node.elts:
        return None
    values: list = []
    for elt in node.elts:
        if string(elt) is not None:
            values.append(string(elt))
        elif isinstance(elt, ast.Tuple) and elt.elts and all(string(e) is not None for e in elt.elts):
            values.append(tuple(string(e) for e in elt.elts))
        else:
            return None
    return values


def _literal_names(body: list[ast.stmt], loops: dict[str, list]) -> dict[str, list]:
    """Names assigned a literal list of names in a block (`TABLES = ["a", "b"]`)."""
    out: dict[str, list] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            values = _literal(stmt.value, loops)
            if values is not None:
                out[stmt.targets[0].id] = values
    return out


def _loop_names(target: ast.AST, iterable: ast.AST, loops: dict[str, list]) -> dict[str, list]:
    """`for t in ("a", "b")`: t -> ["a", "b"]; `for a, b in [("x", "y")]`: the pairs, under
    the key "a,b" (their values go together)."""
    values = _literal(iterable, loops)
    if values is None:
        return {}
    if isinstance(target, ast.Name) and all(isinstance(v, str) for v in values):
        return {target.id: values}
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts) and \
            all(isinstance(v, tuple) and len(v) == len(target.elts) for v in values):
        return {",".join(e.id for e in target.elts): values}
    return {}


def _names(node: ast.AST | None, loops: dict[str, list]) -> list[str]:
    """A table name: a literal, or a loop variable over literal names."""
    if string(node) is not None:
        return [string(node)]
    return list(loops.get(node.id, ())) if isinstance(node, ast.Name) else []


def _pairs(old: ast.AST | None, new: ast.AST | None, loops: dict[str, list]) -> list[tuple[str, str]]:
    """(old, new) names of a rename: literals, or the two variables of one loop over pairs."""
    if string(old) is not None and string(new) is not None:
        return [(string(old), string(new))]
    if isinstance(old, ast.Name) and isinstance(new, ast.Name):
        return [(v[0], v[1]) for v in loops.get(f"{old.id},{new.id}", ())]
    return []


DISCOVERERS = (AlembicOps(),)
