"""TL401/TL403 fixes: prefix the cache or object key with the tenant in reach.

`"report"` -> `f"{team_id}:report"`, `f"user:{uid}"` -> `f"{team_id}:user:{uid}"`,
`key` -> `f"{team_id}:{key}"` (object keys get `/`: `f"{team_id}/{name}"`). Patterns,
key lists and calls with no key at all are left to a person."""
from __future__ import annotations

import re

import libcst as cst

from tenantlint.diagnostics import Diagnostic
from tenantlint.fixes import Edit, Fix, NoFix
from tenantlint.fixes.reach import Judge, tenant_value
from tenantlint.fixes.tree import CstFile

_KEY = re.compile(r"key `(?P<code>.*)` has no tenant component$")


def fix_key(diag: Diagnostic, tree: CstFile, column: str, judge: Judge | None = None) -> Fix | NoFix:
    match = _KEY.search(diag.message)
    if match is None:
        return NoFix("not a single key (a pattern, a list, or no key at all)")
    wanted = match.group("code")
    node = _key_node(tree, diag, wanted)
    if node is None:
        return NoFix("the key expression was not found")
    value = tenant_value(tree, node, column, judge)
    if value is None:
        return NoFix("no tenant value in reach")
    separator = "/" if diag.code == "TL403" else ":"
    tenant = "{" + value.id_code() + "}" + separator
    start, end = tree.span(node)
    if isinstance(node, cst.FormattedString) and "b" not in node.prefix.lower():
        at = start + len(node.start)
        return Fix(f"prefix the key with `{value.id_code()}`", (Edit(at, at, tenant),))
    if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower():
        prefix = node.prefix.replace("u", "").replace("U", "")
        body = tree.code(node)[len(node.prefix) + len(node.quote):-len(node.quote)]
        new = f"{prefix}f{node.quote}{tenant}{body.replace('{', '{{').replace('}', '}}')}{node.quote}"
        return Fix(f"prefix the key with `{value.id_code()}`", (Edit(start, end, new),))
    code = tree.code(node)
    quote = next((q for q in ('"', "'") if q not in code), None)
    if quote is None or "\n" in code or "\\" in code or isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return NoFix("the key expression cannot be interpolated as it is written")
    return Fix(f"prefix the key with `{value.id_code()}`", (Edit(start, end, f"f{quote}{tenant}{{{code}}}{quote}"),))


def _key_node(tree: CstFile, diag: Diagnostic, wanted: str) -> cst.BaseExpression | None:
    shortened = wanted.endswith("...")
    prefix = wanted[:-3] if shortened else wanted
    candidates = [a.value for a in tree.within(diag.location, cst.Arg)]
    candidates += tree.within(diag.location, cst.BaseExpression)
    for node in candidates:
        code = " ".join(tree.code(node).split())
        if code == wanted or (shortened and code.startswith(prefix)):
            return node
    return None
