"""The tables that exist once the migrations have run: creations, added and dropped
columns, renames, drops and RLS statements replayed in migration order (folder, Alembic
revision depth, path, line), each table under its final name."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from tenantlint.catalog_facts import SchemaFact, TableFact, table_key
from tenantlint.sql.types import DdlFact


_TABLE_CHANGES = ("drop_table", "rename_table", "rename_model", "alias")


_RLS_KINDS = ("enable_rls", "force_rls", "disable_rls", "no_force_rls", "policy")


def _sequence(path: str, line: int, order: Mapping[str, int]) -> tuple:
    """Migration order: folder, Alembic revision depth, path (numbered or timestamped
    names), line."""
    return path.rpartition("/")[0], order.get(path, 0), path, line


@dataclass
class Shape:
    """One table as the replay goes: its columns, the columns leading an index, the
    facts that define it (creations and `-alter` additions) and its RLS statements
    (with their place in the sequence)."""

    columns: set[str] = field(default_factory=set)
    leading: set[str] = field(default_factory=set)
    definitions: list[TableFact] = field(default_factory=list)
    rls: list[tuple[tuple, DdlFact]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # foreign-key column -> referenced table
    not_null: set[str] = field(default_factory=set)

    def absorb(self, other: "Shape") -> None:
        self.columns |= other.columns
        self.leading |= other.leading
        self.definitions += other.definitions
        self.rls += other.rls
        self.keys.update(other.keys)
        self.not_null |= other.not_null

    def add_keys(self, keys) -> None:
        for column, target, nullable in keys:
            self.keys[column.lower()] = target
            (self.not_null.discard if nullable else self.not_null.add)(column.lower())

    def key_facts(self) -> dict[str, tuple[str, bool]]:
        """column -> (referenced table, nullable)."""
        return {c: (t, c not in self.not_null) for c, t in self.keys.items() if t and c in self.columns}


def replay(tables: Iterable[TableFact], facts: list[SchemaFact],
            order: Mapping[str, int] | None = None) -> dict[str, Shape]:
    """Table -> its shape after the migrations, replayed in migration order.

    Definitions and added columns (TableFacts, `add_column`) and indexes add;
    `drop_column` removes a column and the indexes it leads; `rename_column` renames
    both. Definitions of one table in several places add up (a schema dump beside the
    migrations). `rename_column` pairs marked `if_present` (a guess at a column, as for a
    Django field) rename only a column known to exist; others create the new name.

    Whole tables: `drop_table` ends a table (whatever is known of it: a table created
    again starts afresh); `rename_table` moves it, with its definitions, columns,
    indexes and RLS statements, to the new name (into the table of that name if one is
    known). Django names models, not tables: `alias` (model default name -> table) says
    which table the model maps to from there on, moving the one it mapped to until then;
    `rename_model` renames the model's default name (its table too, when that was the
    default name); every fact naming a table goes through these names."""
    order = migration_order(facts) if order is None else order
    events: list[tuple[tuple, int, int, object]] = [
        (_sequence(f.path, f.line, order), f.offset, 0, f) for f in tables]
    events += [(_sequence(f.path, f.line, order), f.ddl.offset, 1, f) for f in facts if f.ddl.kind != "revision"]
    shapes: dict[str, Shape] = {}
    models: dict[str, str] = {}  # Django model default table -> its table now

    def move(old: str, new: str) -> None:
        if old == new:
            return
        shape = shapes.pop(old, None)
        if shape is not None:
            if new in shapes:
                shapes[new].absorb(shape)
            else:
                shapes[new] = shape
        for model, table in models.items():
            if table == old:
                models[model] = new

    for key, *_, fact in sorted(events, key=lambda e: e[:3]):
        if isinstance(fact, TableFact):
            shape = shapes.setdefault(models.get(table_key(fact.name), table_key(fact.name)), Shape())
            shape.columns.update(c.lower() for c in fact.columns)
            shape.leading.update(c.lower() for c in fact.indexed_columns if c)
            shape.definitions.append(fact)
            shape.add_keys(fact.foreign_keys)
            continue
        ddl = fact.ddl
        named = table_key(ddl.table)
        table = models.get(named, named)
        if ddl.kind in _TABLE_CHANGES:
            target = table_key(ddl.columns[0]) if ddl.columns else ""
            if ddl.kind == "drop_table":
                shapes.pop(table, None)
                models.pop(named, None)  # a Django model deleted: created again, it maps afresh
            elif ddl.kind == "rename_table" and target:
                move(table, target)
            elif ddl.kind == "alias" and ddl.extra.get("alias"):
                model = table_key(ddl.extra["alias"])
                move(models.get(model, model), named)
                models[model] = named
            elif ddl.kind == "rename_model" and target:
                if table == named:  # the default name: the table is renamed with the model
                    move(table, target)
                else:
                    models[target] = table
                models.pop(named, None)
            continue
        shape = shapes.setdefault(table, Shape())
        if ddl.kind in _RLS_KINDS:
            shape.rls.append(((key, fact.ddl.offset), ddl))
            continue
        columns, leading = shape.columns, shape.leading
        cols = [c.lower() for c in ddl.columns]
        if ddl.kind == "index":
            if cols and cols[0]:
                leading.add(cols[0])
        elif ddl.kind == "add_column":
            columns.update(cols)
            leading.update(c.lower() for c in ddl.indexed_leading)
        elif ddl.kind == "drop_column":
            columns.difference_update(cols)
            leading.difference_update(cols)
            for col in cols:
                shape.keys.pop(col, None)
        elif ddl.kind == "foreign_key" and cols:
            # A key added or altered (`target` "" drops it), or only the column's nullability.
            if "target" in ddl.extra:
                shape.keys[cols[0]] = ddl.extra["target"]
            if "nullable" in ddl.extra:
                (shape.not_null.discard if ddl.extra["nullable"] else shape.not_null.add)(cols[0])
        elif ddl.kind == "rename_column":
            pairs = list(zip(cols[::2], cols[1::2]))
            known = [(old, new) for old, new in pairs if old in columns]
            if not known and not ddl.extra.get("if_present"):
                known = pairs
            for old, new in known:
                columns.discard(old)
                columns.add(new)
                if old in shape.keys:
                    shape.keys[new] = shape.keys.pop(old)
                if old in shape.not_null:
                    shape.not_null.add(new)
                if old in leading:
                    leading.discard(old)
                    leading.add(new)
    for shape in shapes.values():  # keys name Django models by their default table
        shape.keys = {c: models.get(t, t) for c, t in shape.keys.items()}
    return shapes


def migration_order(facts: list[SchemaFact]) -> dict[str, int]:
    """Path -> depth in the Alembic revision graph (1 for a root revision)."""
    downs = {f.ddl.extra["revision"]: (f.path, [d for d in f.ddl.extra.get("down", "").split(",") if d])
             for f in facts if f.ddl.kind == "revision"}
    depth: dict[str, int] = {}
    for start in downs:  # iterative: revision chains can be longer than the recursion limit
        stack = [start]
        while stack:
            rev = stack[-1]
            pending = [d for d in downs[rev][1] if d in downs and d not in depth and d not in stack]
            if rev in depth or not pending:
                depth.setdefault(rev, 1 + max((depth.get(d, 0) for d in downs[rev][1]), default=0))
                stack.pop()
            else:
                stack.extend(pending)
    return {path: depth[rev] for rev, (path, _) in downs.items()}
