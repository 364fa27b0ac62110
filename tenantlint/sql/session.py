"""Session and RLS statements: TL105 (session-level tenant settings), TL107 (RLS
bypass) and TL106 (interpolated identifiers).

sqlglot reads most of these (`SET search_path`, `ALTER TABLE ... DISABLE ROW LEVEL
SECURITY`, `CREATE ROLE ... BYPASSRLS`) as an opaque `Command`, so they are matched on
the token stream, where comments are already gone, rather than on the AST or raw text.
"""
from __future__ import annotations

from tenantlint.sql.glot import Tok, exp
from tenantlint.sql.predicates import HOLE_RE, func_name, unwrap
from tenantlint.sql.scope import Tables
from tenantlint.sql.types import SqlIssue, issue
from tenantlint.trace import NOT_TENANT, SCOPED, UNSCOPED

_IDENT = "; use sql.Identifier"

_OFF = {"OFF", "FALSE", "0", "NO"}
_FALSE = {"false", "f", "off", "0", "no"}


def _seq(words: list[str], seq: tuple[str, ...]) -> bool:
    n = len(seq)
    return any(tuple(words[i:i + n]) == seq for i in range(len(words) - n + 1))


def _table_after_table_kw(toks: list[Tok]) -> str:
    """The last part of the (possibly qualified) name after TABLE [IF EXISTS] [ONLY]."""
    words = [t.upper for t in toks]
    if "TABLE" not in words:
        return ""
    i = words.index("TABLE") + 1
    while i < len(words) and words[i] in ("IF", "EXISTS", "ONLY"):
        i += 1
    name = ""
    while i < len(toks):
        if toks[i].kind != "DOT":
            name = toks[i].text
            if not (i + 1 < len(toks) and toks[i + 1].kind == "DOT"):
                break
        i += 1
    return name.lower()


class HoleNames:
    """Hole markers of a SqlText that may stand for identifiers (not psycopg `composed`)."""

    def __init__(self, holes):
        self.composed = {h.marker.lower() for h in holes if h.kind == "composed"}
        self.names = {h.marker.lower(): (h.name or h.marker) for h in holes}

    def find(self, text: str) -> list[str]:
        """Non-composed hole markers inside `text`, by their source names."""
        out = []
        for m in HOLE_RE.finditer(text or ""):
            marker = m.group(0).lower()
            if marker not in self.composed:
                out.append(self.names.get(marker, marker))
        return out


def token_issues(toks: list[Tok], holes: HoleNames, is_command: bool, tables: Tables,
                 notes: list | None = None) -> list[SqlIssue]:
    """Token-level checks; with `notes` (the decision trace), why a SET is or is not
    tenant state."""
    if not toks:
        return []
    words = [t.upper for t in toks]
    first = words[0]
    issues: list[SqlIssue] = []
    if first == "SET":
        issues += _set_issues(toks, words, holes, tables, notes)
    if first == "ALTER" and len(words) > 1 and words[1] == "TABLE":
        table = _table_after_table_kw(toks)
        for seq, what in ((("DISABLE", "ROW", "LEVEL", "SECURITY"), "DISABLE ROW LEVEL SECURITY"),
                          (("NO", "FORCE", "ROW", "LEVEL", "SECURITY"), "NO FORCE ROW LEVEL SECURITY")):
            if _seq(words, seq):
                issues.append(SqlIssue("TL107", f"`{what}` on `{table}` lets queries bypass row-level security", table))
    if first in ("CREATE", "ALTER") and len(words) > 1 and words[1] in ("ROLE", "USER") and "BYPASSRLS" in words:
        issues.append(SqlIssue("TL107", "a role with `BYPASSRLS` ignores every row-level security policy"))
    if is_command and first != "SET" and _is_ddl_shape(words):
        # Opaque DDL/DCL (CREATE SCHEMA, DROP SCHEMA, GRANT...): every unquoted hole
        # names something, since values are not written there.
        for t in toks:
            if t.kind != "STRING":
                for name in holes.find(t.text):
                    issues.append(issue("TL106", name, "interpolated", "into an identifier", _IDENT))
    return issues


_DDL_OBJECTS = {
    "SCHEMA", "TABLE", "INDEX", "VIEW", "ROLE", "USER", "DATABASE", "SEQUENCE", "FUNCTION", "PROCEDURE",
    "EXTENSION", "POLICY", "TYPE", "TRIGGER", "MATERIALIZED", "UNIQUE", "OR", "TEMP", "TEMPORARY",
    "UNLOGGED", "DOMAIN", "COLLATION", "PUBLICATION", "SUBSCRIPTION", "TABLESPACE", "FOREIGN", "IF",
}


def _is_ddl_shape(words: list[str]) -> bool:
    """`CREATE SCHEMA x`, `DROP TABLE IF EXISTS x`, `GRANT ... ON x`: the object kind
    follows the verb. "Create not valid constraint %s" is a log message."""
    if words[0] in ("CREATE", "DROP", "ALTER", "COMMENT", "TRUNCATE"):
        return len(words) > 1 and (words[1] in _DDL_OBJECTS or words[0] == "TRUNCATE" or words[1] == "ON")
    if words[0] in ("GRANT", "REVOKE"):
        return "ON" in words or "TO" in words or "FROM" in words
    return True


def _set_issues(toks: list[Tok], words: list[str], holes: HoleNames, tables: Tables,
                notes: list | None = None) -> list[SqlIssue]:
    i = 1
    local = False
    if len(words) > 1 and words[1] in ("LOCAL", "SESSION"):
        local = words[1] == "LOCAL"
        i = 2
    j = i
    while j < len(toks) and toks[j].kind != "EQ" and words[j] != "TO":
        j += 1
    if j >= len(toks) and len(words) == i + 2 and words[i] == "ROLE":
        j = i + 1  # `SET ROLE tenant_a`: no `=` or TO
        if not _is_value_list(toks[j:]):
            return []
        if notes is not None:
            notes.append(_setting_note("role", local, tables))
        return [] if local else [SqlIssue(
            "TL105", "session-level `SET ROLE` outlives the transaction on pooled connections; use `SET LOCAL`")]
    if j >= len(toks) or not _is_setting_name(toks[i:j]) or not _is_value_list(toks[j + 1:]):
        return []  # prose ("Set the column name manually.") is not a SET statement
    name = "".join(t.text for t in toks[i:j]).lower()
    values = toks[j + 1:]
    issues = []
    if name == "row_security" and values and values[0].upper in _OFF:
        issues.append(SqlIssue("TL107", "`row_security = off` lets queries bypass row-level security"))
    if notes is not None:
        notes.append(_setting_note(name, local, tables))
    if _is_tenant_setting(name, tables):
        if not local:
            issues.append(SqlIssue(
                "TL105", f"session-level `SET {name}` outlives the transaction on pooled connections; use `SET LOCAL`"))
        if name == "search_path":
            for t in values:
                if t.kind != "STRING":
                    for hole in holes.find(t.text):
                        issues.append(issue("TL106", hole, "interpolated", "into the search_path", _IDENT))
    return issues


def _is_setting_name(toks: list[Tok]) -> bool:
    """`search_path`, `app.tenant_id`, `"app"."tenant_id"`: names joined by dots only."""
    if not toks or len(toks) % 2 == 0:
        return False
    for index, tok in enumerate(toks):
        if index % 2 and tok.text != ".":
            return False
        if not index % 2 and (tok.text == "." or tok.kind == "STRING"):
            return False
    return True


def _is_value_list(toks: list[Tok]) -> bool:
    """`42`, `'a'`, `:p`, `-1`, `a, b, "c"`: values separated by commas, as SET takes;
    "None for the full diff" is prose."""
    values, current = [], []
    for tok in toks:
        if tok.kind == "SEMICOLON":
            break
        if tok.kind == "COMMA":
            values.append(current)
            current = []
        else:
            current.append(tok)
    values.append(current)
    return all(len(v) == 1 or (len(v) == 2 and v[0].kind in ("COLON", "DASH", "PLUS")) for v in values)


_ALWAYS = frozenset({"search_path", "role"})


def _setting_note(name: str, local: bool, tables: Tables) -> tuple[str, str, str]:
    subject = f"SET {name}"
    if not _is_tenant_setting(name, tables):
        return subject, NOT_TENANT, ("not tenant state: not named for the tenant or a tenant column, and the "
                                     "project never reads it with current_setting()")
    why = "read by the project with current_setting()" if name in tables.settings else \
        "search_path and role always are" if name in _ALWAYS else "named for the tenant"
    if local:
        return subject, SCOPED, f"tenant state ({why}), set with LOCAL: it ends with the transaction"
    return subject, UNSCOPED, f"tenant state ({why}), set for the session: it outlives the transaction"


def _is_tenant_setting(name: str, tables: Tables) -> bool:
    """What TL105 is about: the search_path (schema-per-tenant), the role, or a custom
    `x.y` setting that carries the tenant: named for it (`app.tenant_id`,
    `app.current_org_id` with an `org_id` tenant column) or read by the project with
    current_setting() (a policy's). Built-ins like `timezone` and an engine's own
    tuning knobs (`cz.storage.write_buffer`) do not."""
    name = name.replace('"', "")
    if name in _ALWAYS:
        return True
    if "." not in name or name.startswith("."):
        return False
    return "tenant" in name or name in tables.settings or any(col in name for col in tables.columns)


def tree_issues(tree: exp.Expression, holes: HoleNames, tables: Tables) -> list[SqlIssue]:
    """`set_config(..., false)` and holes in table / schema names."""
    issues: list[SqlIssue] = []
    for node in tree.find_all(exp.Func):
        if func_name(node) != "set_config":
            continue
        args = node.expressions if isinstance(node, exp.Anonymous) else list(node.iter_expressions())
        if len(args) != 3:
            continue
        setting, value, is_local = (unwrap(a) for a in args)
        name = setting.name.lower() if isinstance(setting, exp.Literal) else ""
        if _is_false(is_local) and _is_tenant_setting(name, tables):
            issues.append(SqlIssue(
                "TL105", f"`set_config('{name}', ..., false)` is session-level on pooled connections; pass true"))
        if name == "row_security" and isinstance(value, exp.Literal) and value.name.lower() in _FALSE:
            issues.append(SqlIssue("TL107", "`set_config('row_security', 'off', ...)` bypasses row-level security"))
    for table in tree.find_all(exp.Table):
        if _stands_for_subquery(table, holes):
            continue
        parts = [("catalog", "schema"), ("db", "schema"), ("this", "table")]
        for argname, what in parts:
            ident = table.args.get(argname)
            if isinstance(ident, exp.Identifier):
                for hole in holes.find(ident.name):
                    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "SCHEMA":
                        what = "schema"
                    issues.append(issue("TL106", hole, "interpolated", f"into a {what} name", _IDENT,
                                        table=str(table.name).lower()))
    return issues


def _stands_for_subquery(table: exp.Table, holes: HoleNames) -> bool:
    """`FROM ({sql}) AS s`: a parenthesized hole is a whole subquery, not a table name."""
    ident = table.args.get("this")
    return (isinstance(table.parent, (exp.Subquery, exp.Paren)) and not table.args.get("db")
            and isinstance(ident, exp.Identifier) and HOLE_RE.fullmatch(ident.name or "") is not None)


def _is_false(node: exp.Expression) -> bool:
    if isinstance(node, exp.Boolean):
        return not node.this
    if isinstance(node, exp.Literal):
        return node.name.lower() in _FALSE
    return False
