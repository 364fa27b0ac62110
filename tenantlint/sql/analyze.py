"""`analyze_sql`: SQL text -> tenant-scope issues, one statement at a time.

Parsed statements go to the scope walker (TL101/102/104/002), the INSERT check (TL103)
and the session checks (TL105/106/107). Statements that do not parse still get the
token-level checks, and, when they begin as a query naming a tenant table, TL002 (the
tenant column is named somewhere, or a hole might hold it) or TL101 (it is not).
"""
from __future__ import annotations

from tenantlint.sql import glot
from tenantlint.sql.glot import exp
from tenantlint.sql.predicates import is_hole_name
from tenantlint.sql.scope import ScopeWalker, Tables
from tenantlint.sql.session import HoleNames, token_issues, tree_issues
from tenantlint.sql.statements import (
    QUERY_WORDS, START_WORDS, TXN_WORDS, Statement, looks_like_sql, parse_statements,
)
from tenantlint.sql.types import SqlIssue, SqlPolicy, SqlText, issue, merge_issues, predicate

SCOPED_AWAY = frozenset({"TL002", "TL101", "TL102", "TL103", "TL104"})
_TABLE_KWS = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "USING"})
# A query that fails to parse must still look like one: prose such as "Update orders
# failed: %s" lacks the clause that every real statement of that kind has.
_REQUIRED = {"SELECT": "FROM", "UPDATE": "SET", "DELETE": "FROM", "INSERT": "INTO", "MERGE": "USING", "WITH": "AS"}


def analyze_sql(sql: SqlText, policy: SqlPolicy, *, scoped: bool = False,
                notes: list | None = None, untrusted=None, parent_params: set | None = None) -> list[SqlIssue] | None:
    """Issues for a piece of SQL, or None when the text is not SQL at all. Never raises.
    With `notes` (the decision trace), each tenant table occurrence adds (table,
    verdict, reason): the predicate that anchored it, or what its conditions hold.
    `parent_params` collects the parameters (name, position or hole marker) bound to
    parent-key predicates; `untrusted` (key -> where its value comes from) names those
    whose value is not trusted: their predicates anchor nothing (sql/parent_keys.py)."""
    try:
        text = sql.text
        if not isinstance(text, str) or not looks_like_sql(text):
            return None
        statements = parse_statements(text, (policy.dialect or "postgres").lower(), policy.max_sql_chars)
        tables = _tables(policy)
        holes = HoleNames(sql.holes)
        found: list[SqlIssue] | None = None
        for st in statements:
            issues = _statement(st, tables, holes, notes, untrusted, parent_params)
            if issues is not None:  # one finding per statement and code, naming every table
                found = (found or []) + [i for i in merge_issues(issues) if i not in (found or ())]
    except Exception as exc:  # noqa: BLE001 - a linter bug must neither abort a scan nor pass a query
        if scoped or not looks_like_sql(sql.text if isinstance(sql.text, str) else ""):
            return None if not scoped else []
        return [SqlIssue("TL002", f"this SQL could not be analyzed ({type(exc).__name__} inside tenantlint): "
                                  "its tenant scope is unverified")]
    if found is None:
        return None
    return [found_issue for found_issue in found if not (scoped and found_issue.code in SCOPED_AWAY)]


_LAST_POLICY: list = [None, None]  # (policy, Tables): one policy per scan, folded once


def _tables(policy: SqlPolicy) -> Tables:
    if _LAST_POLICY[0] is not policy:
        _LAST_POLICY[:] = [policy, Tables.from_policy(policy)]
    return _LAST_POLICY[1]


def _statement(st: Statement, tables: Tables, holes: HoleNames, notes: list | None = None, untrusted=None,
               parent_params: set | None = None) -> list[SqlIssue] | None:
    if st.first not in START_WORDS or st.first in TXN_WORDS or _is_sentence(st.toks):
        return None
    tree = st.tree
    is_cmd = tree is not None and glot.is_command(tree)
    issues = token_issues(list(st.toks), holes, is_cmd, tables, notes)
    if tree is None:
        unparsed = _unparsed(st, tables)
        if unparsed is None:
            return issues or None
        return issues + unparsed
    if is_cmd:  # opaque: SQL only when it is a SET we understood or it tripped a check
        return issues if issues or st.first == "SET" else None
    if _is_prose(tree):
        return None
    try:
        issues += tree_issues(tree, holes, tables)
        issues += _judge(tree, tables, notes, untrusted, parent_params)
    except Exception:  # noqa: BLE001 - an AST shape we did not foresee: fail closed
        issues += _unparsed(st, tables) or []
    return issues


# Tokens that prose does not have and SQL nearly always does.
_SQL_MARKS = frozenset({
    "STAR", "EQ", "NEQ", "LT", "GT", "LTE", "GTE", "NULLSAFE_EQ", "L_PAREN", "R_PAREN", "DCOLON",
    "L_BRACKET", "PIPE", "DPIPE", "ARROW", "DARROW", "NULLSAFE_EQ",
})
_WORD_KINDS = frozenset({"VAR", "IDENTIFIER", "STRING", "NUMBER"})


def _is_sentence(toks) -> bool:
    """"Delete from orders failed: %s", "Select a file from orders folder": a sentence
    that happens to parse. Sentence case (`Delete`, not `DELETE` or `delete`), no
    upper-case keyword after it, and none of SQL's operators, parentheses or qualified
    names. (Real SQL written "Select id from orders" is read as prose: mixed-case
    keywords without a single operator are rare in code, log messages are not.)"""
    if not toks:
        return False
    first = toks[0].text
    if not (len(first) > 1 and first[0].isupper() and first[1:].islower()):
        return False
    for k, t in enumerate(toks[1:], 1):
        if t.kind in _SQL_MARKS:
            return False
        if t.kind == "DOT" and k + 1 < len(toks) and toks[k + 1].kind in ("VAR", "IDENTIFIER", "STAR"):
            return False  # `public.orders`
        if t.kind not in _WORD_KINDS and t.text.isalpha() and t.text.isupper() and len(t.text) > 1:
            return False  # `FROM`, `WHERE`: written as SQL
    return True


def _is_prose(tree: exp.Expression) -> bool:
    """`select`, "Select one", "Insert coin", "update service account": bare words that
    happen to parse. (Every dialect's UPDATE has a SET; a DELETE may lack FROM.)"""
    if isinstance(tree, exp.Insert):
        return tree.args.get("expression") is None and not tree.args.get("default")
    if isinstance(tree, exp.Update):
        return not tree.args.get("expressions")
    if not isinstance(tree, exp.Select) or tree.args.get(glot.FROM) or tree.args.get("where"):
        return False
    items = tree.expressions
    return not items or all(isinstance(e, exp.Column) and not e.table for e in items)


def _judge(tree: exp.Expression, tables: Tables, notes: list | None = None, untrusted=None,
           parent_params: set | None = None) -> list[SqlIssue]:
    walker = ScopeWalker(tables, notes, untrusted, tree)
    extra: list[SqlIssue] = []
    if isinstance(tree, exp.Insert):
        extra += _insert_columns(tree.this, tables)
    elif isinstance(tree, exp.Merge):
        whens = tree.args.get("whens")
        for when in (whens.expressions if whens is not None else ()):
            then = when.args.get("then")
            if isinstance(then, exp.Insert) and isinstance(then.this, exp.Tuple):
                extra += _check_insert(tree.this, [c.name for c in then.this.expressions], tables)
    elif isinstance(tree, exp.Copy):
        return _copy(tree, walker, tables)
    if isinstance(tree, (exp.Query, exp.Update, exp.Delete, exp.Merge, exp.Insert)):
        walker.query(tree, None, frozenset())
    if parent_params is not None:
        parent_params.update(walker.parent_params)
    return extra + walker.issues


_COPY_ENDS = frozenset({"stdin", "stdout"})


def _copy(tree: exp.Expression, walker: ScopeWalker, tables: Tables) -> list[SqlIssue]:
    """`COPY (SELECT ...) TO` is judged as its query; `COPY orders TO` dumps every
    tenant's rows (TL101); `COPY orders (cols) FROM` without the tenant column is an
    INSERT without it (TL103). "Copy orders to the clipboard" names no file."""
    files = tree.args.get("files") or []
    if not files or not all((isinstance(f, exp.Literal) and f.is_string)
                            or (isinstance(f, exp.Identifier) and f.name.lower() in _COPY_ENDS) for f in files):
        return []
    target = tree.this
    if isinstance(target, exp.Subquery):
        walker.query(target, None, frozenset())
        return walker.issues
    if tree.args.get("kind"):  # FROM: a load
        return _insert_columns(target, tables)
    table = target.this if isinstance(target, exp.Schema) else target
    if not isinstance(table, exp.Table):
        return []
    name = str(table.name).lower()
    if name in tables.tenant and name not in tables.trusted:
        col = sorted(tables.tenant[name])[0]
        return [issue("TL101", name, "exported", f"by COPY without {predicate(col)}", table=name)]
    return []


def _insert_columns(target, tables: Tables) -> list[SqlIssue]:
    if isinstance(target, exp.Schema) and isinstance(target.this, exp.Table):
        cols = [c.name for c in target.expressions if isinstance(c, (exp.Identifier, exp.Column))]
        return _check_insert(target.this, cols, tables)
    return []  # no column list: cannot tell which columns are set


def _check_insert(table, cols: list[str], tables: Tables) -> list[SqlIssue]:
    if not isinstance(table, exp.Table):
        return []
    name = str(table.name).lower()
    tenant_cols = tables.tenant.get(name)
    if not tenant_cols or name in tables.trusted or not cols:
        return []
    if tenant_cols & {str(c).lower() for c in cols}:
        return []
    col = sorted(tenant_cols)[0]
    return [SqlIssue("TL103", f"INSERT into `{name}` does not set `{col}`", name)]


def _unparsed(st: Statement, tables: Tables) -> list[SqlIssue] | None:
    toks, words = st.toks, st.words
    if not toks:
        return None
    first = st.first
    if not st.mutation:
        if first not in QUERY_WORDS or _REQUIRED[first] not in words:
            return None
    named: list[str] = []
    aliases: set[int] = set()
    for i, w in enumerate(words):
        if w not in _TABLE_KWS:
            continue
        j, name = i + 1, ""
        while j < len(toks) and toks[j].kind in ("VAR", "IDENTIFIER", "DOT"):
            if toks[j].kind != "DOT":
                name = toks[j].text.lower()
            j += 1
            if j < len(toks) and toks[j].kind != "DOT" and toks[j - 1].kind != "DOT":
                break
        if name in tables.tenant and name not in tables.trusted:
            named.append(name)
            aliases.update({j, j + 1} if j < len(words) and words[j] == "AS" else {j})
    if not named:
        return None
    cols = frozenset().union(*(tables.tenant[n] for n in named))
    mentions = any(
        t.kind in ("VAR", "IDENTIFIER") and t.text.lower() in cols and i not in aliases
        and not (i + 1 < len(toks) and toks[i + 1].kind == "DOT")
        for i, t in enumerate(toks))
    clause_hole = any(t.kind == "VAR" and is_hole_name(t.text) for t in toks)
    out = []
    for name in dict.fromkeys(named):
        col = sorted(tables.tenant[name])[0]
        if mentions or clause_hole:
            out.append(issue("TL002", name, "", f"the query does not parse, so its `{col}` scope cannot be verified",
                             table=name))
        else:
            out.append(issue("TL101", name, "queried", f"without {predicate(col)}", table=name))
    return out
