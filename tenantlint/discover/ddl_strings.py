"""DDL inside Python strings (`op.execute("ALTER TABLE t ENABLE ROW LEVEL SECURITY")`,
Django `RunSQL`): the same facts as in `.sql` files, at the string's line.

The SQL is the first argument of any call, or its `sql=` / `sqltext=` keyword (never
`reverse_sql`); a list of statements (`RunSQL([...])`, items may be `(sql, params)`)
gives each. A template over a loop variable (`for t in ("a", "b"): op.execute(f"ALTER
TABLE {t} ENABLE ...")`) is read once per literal value. `downgrade()` is skipped: it
describes the schema before the migration. Table drops and renames (`DROP TABLE`, `ALTER
TABLE a RENAME TO b`) count only in a migration: a file under a migrations folder (see
`sql_files.is_migration`) or an Alembic revision; in other code they are teardown."""
from __future__ import annotations

import ast
from typing import Iterable, Iterator

from tenantlint.config import Settings
from tenantlint.discover.sql_files import facts_from_sql, is_migration
from tenantlint.string_constants import literal

# ALTER TABLE: a tenant column added, renamed or dropped by a later migration, or the
# table renamed; DROP TABLE / RENAME TABLE: a table that no longer exists.
_KEYWORDS = ("ROW LEVEL", "CREATE TABLE", "CREATE INDEX", "CREATE POLICY", "CREATE UNIQUE", "ALTER TABLE",
             "DROP TABLE", "DROP TEMPORARY TABLE", "RENAME TABLE")


class DdlStrings:
    triggers = (b"ROW LEVEL", b"row level", b"CREATE TABLE", b"create table", b"CREATE INDEX",
                b"create index", b"CREATE POLICY", b"create policy", b"CREATE UNIQUE", b"create unique",
                b"ALTER TABLE", b"alter table", b"DROP TABLE", b"drop table", b"DROP TEMPORARY TABLE",
                b"drop temporary table", b"RENAME TABLE", b"rename table")

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable:
        constants = _literal_lists(tree.body)
        migration = is_migration(path) or _alembic_revision(tree)
        for node, names in _calls(tree, constants):
            for arg in _sql_arguments(node):
                for text in _texts(arg, names):
                    if any(k in text.upper() for k in _KEYWORDS):
                        yield from facts_from_sql(text, path, settings, base_line=arg.lineno, origin="python",
                                                  migration=migration)


def _alembic_revision(tree: ast.Module) -> bool:
    """An Alembic migration wherever it lies: `revision = "..."` beside an alembic import."""
    revision = alembic = False
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) \
            else []
        if any(isinstance(t, ast.Name) and t.id == "revision" for t in targets):
            revision = True
        elif isinstance(stmt, ast.ImportFrom) and (stmt.module or "").split(".")[0] == "alembic":
            alembic = True
        elif isinstance(stmt, ast.Import) and any(a.name.split(".")[0] == "alembic" for a in stmt.names):
            alembic = True
    return revision and alembic


def _calls(node: ast.AST, loops: dict[str, list[str]]) -> Iterator[tuple[ast.Call, dict[str, list[str]]]]:
    """Every call outside `downgrade*` functions, with the literal values of the loop
    variables around it (and of lists assigned in the enclosing function)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if node.name.startswith("downgrade"):
            return
        loops = {**loops, **_literal_lists(node.body)}
    if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
        values = _values(node.iter, loops)
        if values is not None:
            loops = {**loops, node.target.id: values}
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        for gen in node.generators:
            values = _values(gen.iter, loops) if isinstance(gen.target, ast.Name) else None
            if values is not None:
                loops = {**loops, gen.target.id: values}
    if isinstance(node, ast.Call):
        yield node, loops
    for child in ast.iter_child_nodes(node):
        yield from _calls(child, loops)


def _literal_lists(body: list[ast.stmt]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            values = _values(stmt.value, {})
            if values is not None:
                out[stmt.targets[0].id] = values
    return out


def _values(node: ast.AST, names: dict[str, list[str]]) -> list[str] | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]
    return None


def _sql_arguments(node: ast.Call) -> Iterator[ast.AST]:
    args = [node.args[0]] if node.args and not isinstance(node.args[0], ast.Starred) else []
    args += [kw.value for kw in node.keywords if kw.arg in ("sql", "sqltext")]
    for arg in args:
        if isinstance(arg, (ast.List, ast.Tuple)):
            for item in arg.elts:
                yield item.elts[0] if isinstance(item, ast.Tuple) and item.elts else item
        else:
            yield arg


def _texts(node: ast.AST, names: dict[str, list[str]]) -> list[str]:
    """The texts a string expression can have: a literal or a concatenation of literals,
    or a template (f-string, `.format`, `%`) whose only holes are names of known literal
    lists, expanded once per value."""
    text = literal(node)
    if text is not None:
        return [text]
    template, name = _template(node)
    if template is None or name not in names:
        return []
    return [template.replace("\0", value) for value in names[name]]


def _template(node: ast.AST) -> tuple[str | None, str | None]:
    """("ALTER TABLE \\0 ...", "t") for a template with one name hole, else (None, None)."""
    if isinstance(node, ast.JoinedStr):
        parts, holes = [], set()
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value)
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                holes.add(value.value.id)
                parts.append("\0")
            else:
                return None, None
        return ("".join(parts), holes.pop()) if len(holes) == 1 else (None, None)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Name)):
        text = literal(node.func.value)
        if text is not None and text.count("{}") + text.count("{0}") >= 1 and "{" not in \
                text.replace("{}", "").replace("{0}", ""):
            return text.replace("{}", "\0").replace("{0}", "\0"), node.args[0].id
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.right, ast.Name):
        text = literal(node.left)
        if text is not None and text.count("%s") >= 1 and "%" not in text.replace("%s", ""):
            return text.replace("%s", "\0"), node.right.id
    return None, None


DISCOVERERS = (DdlStrings(),)
