"""SQL fixes on string literals.

- TL105: `SET x = ...` -> `SET LOCAL x = ...`, `set_config(name, value, false)` -> `true`.
- TL101: a one-table statement gains `<tenant column> = <placeholder>` (`WHERE a OR b`
  becomes `WHERE team_id = %s AND (a OR b)`), TL103: an INSERT's column list and its
  one VALUES row gain the tenant column and a placeholder. Only when the placeholder
  style and the parameters are unambiguous: the SQL is one plain literal, the
  parameters argument a literal tuple or list (positional `%s`, `?`, `$n`) or dict
  (`%(name)s`, `:name`), and the parameter goes in at the matching place."""
from __future__ import annotations

import re

import libcst as cst

from tenantlint.diagnostics import Diagnostic
from tenantlint.fixes import Edit, Fix, NoFix
from tenantlint.fixes.reach import Judge, tenant_value
from tenantlint.fixes.tree import CstFile

_SESSION_SET = re.compile(r"(?i)((?:^|;)\s*)SET(\s+)(?:SESSION\s+)?(?!LOCAL\b)")
_SET_CONFIG = re.compile(r"(?i)(set_config\s*\([^()]*,\s*)false(\s*\))")
_COLUMN = re.compile(r"`(\w+)` predicate|does not set `(\w+)`")
_TABLES = re.compile(r"`[\w.]+`")
_CLAUSE_END = re.compile(r"(?i)\b(GROUP\s+BY|ORDER\s+BY|LIMIT|OFFSET|RETURNING|HAVING|WINDOW|FOR\s+UPDATE|FOR\s+SHARE)\b")
_COMPLEX = re.compile(r"(?i)\b(JOIN|UNION|INTERSECT|EXCEPT|WITH|USING)\b")
_STYLES = {
    "pyformat": re.compile(r"%\((\w+)\)s"),
    "format": re.compile(r"%s"),
    "qmark": re.compile(r"\?"),
    "numeric": re.compile(r"\$(\d+)"),
    "named": re.compile(r"(?<![:\w]):(\w+)"),
}


def fix_session_setting(diag: Diagnostic, tree: CstFile) -> Fix | NoFix:
    edits = []
    for node in tree.within(diag.location, (cst.SimpleString, cst.FormattedStringText)):
        start, end = tree.span(node)
        code = tree.text[start:end]
        head = 0
        if isinstance(node, cst.SimpleString):
            head = len(node.prefix) + len(node.quote)
            body = code[head:len(code) - len(node.quote)]
        else:
            body = code
        new = _SET_CONFIG.sub(r"\1true\2", _SESSION_SET.sub(r"\1SET\2LOCAL ", body))
        if new != body:
            edits.append(Edit(start + head, start + head + len(body), new))
    if not edits:
        return NoFix("the SET statement is not written as a literal")
    return Fix("make the setting transaction-local (`SET LOCAL` / `set_config(..., true)`)", tuple(edits))


def fix_missing_tenant(diag: Diagnostic, tree: CstFile, judge: Judge | None = None) -> Fix | NoFix:
    match = _COLUMN.search(diag.message)
    if match is None or len(_TABLES.findall(diag.message)) != 2:
        return NoFix("several tables: add each tenant predicate by hand")
    column = match.group(1) or match.group(2)
    literal = next(iter(tree.within(diag.location, cst.SimpleString)), None)
    if literal is None or "b" in literal.prefix.lower():
        return NoFix("the SQL is not one plain string literal")
    call = next((n for n in tree.ancestors(literal) if isinstance(n, cst.Call)), None)
    if call is None or len(call.args) < 2 or call.args[0].value is not literal:
        return NoFix("no parameters argument beside the SQL")
    params = call.args[1].value
    if not isinstance(params, (cst.Tuple, cst.List, cst.Dict)):
        return NoFix("the parameters are not a literal tuple, list or dict")
    value = tenant_value(tree, literal, column, judge)
    if value is None:
        return NoFix("no tenant value in reach")
    start, _end = tree.span(literal)
    head = len(literal.prefix) + len(literal.quote)
    body = literal.raw_value
    styles = [name for name, pattern in _STYLES.items() if pattern.search(body)]
    if len(styles) != 1:
        return NoFix("the placeholder style is ambiguous")
    style = styles[0]
    if (style in ("pyformat", "named")) != isinstance(params, cst.Dict):
        return NoFix("the placeholders do not match the parameters argument")
    placeholder = {"pyformat": f"%({column})s", "format": "%s", "qmark": "?", "named": f":{column}",
                   "numeric": f"${1 + max((int(n) for n in _STYLES['numeric'].findall(body)), default=0)}"}[style]
    sql_edit = _sql_edit(diag.code, body, column, placeholder)
    if sql_edit is None:
        return NoFix("the statement is not a simple one-table statement")
    at, removed, inserted, param_at = sql_edit
    edits = [Edit(start + head + at, start + head + at + removed, inserted)]
    param = _param_edit(tree, params, style, body[:param_at], column, value.id_code())
    if param is None:
        return NoFix("the parameters cannot take the tenant value in place")
    edits.append(param)
    return Fix(f"add `{column} = {value.id_code()}` to the statement", tuple(edits))


def _sql_edit(code: str, body: str, column: str, placeholder: str) -> tuple[int, int, str, int] | None:
    """(offset, length replaced, new text, where the new placeholder goes among the old
    ones) in the SQL body."""
    if ";" in body.strip().rstrip(";") or len(re.findall(r"(?i)\bselect\b", body)) > 1 or _COMPLEX.search(body):
        return None
    if code == "TL103":
        match = re.search(r"(?is)^\s*INSERT\s+INTO\s+[\w.\"]+\s*\(([^()]*)\)\s*VALUES\s*\(", body)
        if match is None or re.search(r"(?i)\bVALUES\s*\(.*\)\s*,\s*\(", body, re.S):
            return None
        close = _closing(body, match.end())
        if close is None:
            return None
        # two insertions in one replacement, so the parameter offset is the VALUES one
        columns_end = match.end(1)
        new = body[columns_end:close].replace(")", f", {column})", 1)
        return columns_end, close - columns_end, new + f", {placeholder}", close
    where = list(re.finditer(r"(?i)\bWHERE\b\s*", body))
    if len(where) > 1:
        return None
    if where:
        begin = where[0].end()
        end_clause = _CLAUSE_END.search(body, begin)
        stop = end_clause.start() if end_clause else len(body.rstrip().rstrip(";").rstrip())
        condition = body[begin:stop].rstrip()
        return begin, len(condition), f"{column} = {placeholder} AND ({condition})", begin
    end_clause = _CLAUSE_END.search(body)
    stop = end_clause.start() if end_clause else len(body.rstrip().rstrip(";").rstrip())
    gap = "" if stop and body[stop - 1].isspace() else " "
    tail = " " if end_clause else ""
    return stop, 0, f"{gap}WHERE {column} = {placeholder}{tail}", stop


def _closing(body: str, index: int) -> int | None:
    depth = 1
    for offset in range(index, len(body)):
        if body[offset] == "(":
            depth += 1
        elif body[offset] == ")":
            depth -= 1
            if depth == 0:
                return offset
    return None


def _param_edit(tree: CstFile, params, style: str, before: str, column: str, value: str) -> Edit | None:
    if isinstance(params, cst.Dict):
        keys = [tree.code(e.key).strip("'\"") for e in params.elements if isinstance(e, cst.DictElement)]
        if column in keys or any(not isinstance(e, cst.DictElement) for e in params.elements):
            return None
        entry = f'"{column}": {value}'
        if params.elements:
            _s, end = tree.span(params.elements[-1].value)
            return Edit(end, end, f", {entry}")
        _s, end = tree.span(params)
        return Edit(end - 1, end - 1, entry)
    elements = list(params.elements)
    if any(isinstance(e, (cst.StarredElement,)) for e in elements):
        return None
    index = len(elements) if style == "numeric" else len(_STYLES[style].findall(before))
    if index < len(elements):
        start, _e = tree.span(elements[index].value)
        return Edit(start, start, f"{value}, ")
    if elements:
        _s, end = tree.span(elements[-1].value)
        return Edit(end, end, f", {value}")
    _s, end = tree.span(params)
    if isinstance(params, cst.Tuple) and not params.lpar:
        return None
    return Edit(end - 1, end - 1, f"{value}," if isinstance(params, cst.Tuple) else value)
