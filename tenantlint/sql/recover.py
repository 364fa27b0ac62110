"""Python expression -> SQL text with holes.

Folds what Python would fold at run time from literals: implicit and `+`
concatenation, f-strings, `%` templates, `.format`, `"sep".join([...])`,
`textwrap.dedent`, psycopg `sql.SQL(...).format(...)`, and names bound to strings
(through `RecoveryLookups.lookup`). Whatever is only known at run time becomes a Hole, so the
analysis can tell a value (`tenant_id = {tid}`) from an identifier (`FROM {table}`).
No sqlglot here: this module only reads stdlib `ast` nodes."""
from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass, field
from typing import Callable

from tenantlint.names import dotted
from tenantlint.sql.types import Hole, SqlText


@dataclass(frozen=True)
class HolePiece:
    kind: str
    name: str = ""


@dataclass
class Recovered:
    pieces: list = field(default_factory=list)
    nodes: list = field(default_factory=list)  # the literal nodes that contributed text

    @property
    def has_text(self) -> bool:
        return any(isinstance(p, str) and p for p in self.pieces)

    def __add__(self, other: "Recovered") -> "Recovered":
        return Recovered(self.pieces + other.pieces, self.nodes + other.nodes)

    def to_sql(self) -> SqlText:
        holes: list[Hole] = []
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                marker = f"__tlhole{len(holes)}__"
                holes.append(Hole(marker=marker, kind=piece.kind, name=piece.name))
                out.append(marker)
        return SqlText("".join(out), tuple(holes))


def text(value: str, node: ast.AST | None = None) -> Recovered:
    return Recovered([value], [node] if node is not None else [])


def hole(kind: str, name: str = "") -> Recovered:
    return Recovered([HolePiece(kind, name)])


@dataclass
class RecoveryLookups:
    """What recovery may consult: names bound to strings, and qualified names.
    `imported` resolves a name or attribute (`BASE`, `sql.BASE`) that `lookup` does not
    know to a string constant of another module of the project (through the catalog).
    `sequence` gives the items of a list named in `sep.join(name)` when they are known
    (an item that may be missing is a hole), else None."""

    lookup: Callable[[str], Recovered | None] = lambda name: None
    qualify: Callable[[ast.expr], str | None] = lambda node: dotted(node)
    code: Callable[[ast.AST], str] = lambda node: ""
    imported: Callable[[ast.expr], Recovered | None] = lambda node: None
    sequence: Callable[[ast.expr], list[Recovered] | None] = lambda node: None
    # A class or dict constant (`self.TABLE`, `TABLES["events"]`) known statically.
    constant: Callable[[ast.expr], Recovered | None] = lambda node: None


_DEDENT = {"textwrap.dedent", "inspect.cleandoc", "dedent", "cleandoc"}
_SAME_TEXT_METHODS = {"strip", "lstrip", "rstrip", "replace"}


def recover(node: ast.expr, env: RecoveryLookups) -> Recovered | None:
    """The SQL text an expression evaluates to, or None when it is not string-valued
    from literals at all."""
    kind = type(node)
    if kind is ast.Constant:
        # Implicit concatenation (`"a" "b"`) is already one Constant; bytes are not text.
        value = node.value
        return text(value, node) if type(value) is str else None
    if kind is ast.JoinedStr:
        return _fstring(node, env)
    if kind is ast.BinOp:
        op = type(node.op)
        if op is ast.Add:
            return _concat(node, env)
        if op is ast.Mod:
            return _percent(node, env)
        return None
    if kind is ast.Call:
        return _call(node, env)
    if kind is ast.Name:
        found = env.lookup(node.id)
        return found if found is not None else env.imported(node)
    if kind is ast.Attribute:
        found = env.imported(node)
        return found if found is not None else env.constant(node)
    if kind is ast.Subscript:
        return env.constant(node)
    return None


def _fstring(node: ast.JoinedStr, env: RecoveryLookups) -> Recovered:
    # The text parts are Constants, already unescaped (`{{` -> `{`, `\\n` -> newline).
    out = Recovered()
    for part in node.values:
        if isinstance(part, ast.Constant):
            out = out + text(part.value, node)
        elif isinstance(part, ast.FormattedValue):
            inner = recover(part.value, env)
            if inner is not None and part.format_spec is None and part.conversion == -1 and _inlined(inner):
                out = out + inner
            else:
                out = out + hole(_kind(part.value, "fstring"), env.code(part.value))
    return out


# `"FROM orders" + where`: a variable concatenated right after a word is usually a
# clause (" WHERE ..."), and gluing it to `orders` would read as an interpolated table
# name. Only `_` and `.` glue a concatenated piece into an identifier (`"tenant_" + slug`,
# `schema + ".orders"`); an f-string's `tenant_{slug}` is glued as written.
def _ends_word(rec: Recovered) -> bool:
    last = rec.pieces[-1] if rec.pieces else ""
    return isinstance(last, str) and last[-1:].isalnum()


def _starts_word(rec: Recovered) -> bool:
    first = rec.pieces[0] if rec.pieces else ""
    return isinstance(first, str) and first[:1].isalnum()


def _is_static(rec: Recovered) -> bool:
    return all(isinstance(p, str) for p in rec.pieces)


def _inlined(rec: Recovered) -> bool:
    """A value interpolated into a string is spliced in when some of its text is
    known (its own holes stay holes: `WHERE {where}` with `where = " AND ".join(conds)`
    reads the conditions); a value known not at all is one hole."""
    return _is_static(rec) or rec.has_text


def _concat(node: ast.BinOp, env: RecoveryLookups) -> Recovered | None:
    left, right = recover(node.left, env), recover(node.right, env)
    if left is None and right is None:
        return None
    if left is None:
        left = hole(_kind(node.left, "concat"), env.code(node.left))
        if _starts_word(right):
            left = left + text(" ")
    if right is None:
        right = hole(_kind(node.right, "concat"), env.code(node.right))
        if _ends_word(left):
            left = left + text(" ")
    result = left + right
    return result if result.has_text else None


_PERCENT = re.compile(r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")


def _percent(node: ast.BinOp, env: RecoveryLookups) -> Recovered | None:
    template = recover(node.left, env)
    if template is None or not template.has_text:
        return None
    right = node.right
    positional: list[ast.expr] = []
    named: dict[str, ast.expr] = {}
    if isinstance(right, ast.Tuple):
        positional = [el for el in right.elts if not isinstance(el, ast.Starred)]
    elif isinstance(right, ast.Dict):
        for key, value in zip(right.keys, right.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                named[key.value] = value
    else:
        positional = [right]
    position = 0
    out = Recovered()
    for piece in template.pieces:
        if not isinstance(piece, str):
            out.pieces.append(piece)
            continue
        last = 0
        for match in _PERCENT.finditer(piece):
            out.pieces.append(piece[last:match.start()])
            last = match.end()
            if match.group("conv") == "%":
                out.pieces.append("%")
                continue
            key = match.group("key")
            if key is not None:
                arg = named.get(key)
                label = key
            else:
                arg = positional[position] if position < len(positional) else None
                position += 1
                label = env.code(arg) if arg is not None else ""
            value = recover(arg, env) if arg is not None else None
            if value is not None and _inlined(value):
                out.pieces.extend(value.pieces)
            else:
                out.pieces.append(HolePiece(_kind(arg, "percent"), label))
        out.pieces.append(piece[last:])
    out.nodes = template.nodes
    return out


def _first_arg(call: ast.Call) -> ast.expr | None:
    """The value of a call's first argument as written (`*x` and `**x` give `x`)."""
    if call.args:
        first = call.args[0]
        return first.value if isinstance(first, ast.Starred) else first
    return call.keywords[0].value if call.keywords else None


def _call(node: ast.Call, env: RecoveryLookups) -> Recovered | None:
    func = node.func
    qualified = env.qualify(func) or ""
    if qualified in _DEDENT or qualified.endswith((".dedent", ".cleandoc")) or _is_psycopg_sql(qualified):
        first = _first_arg(node)
        return recover(first, env) if first is not None else None
    if not isinstance(func, ast.Attribute):
        return None
    method = func.attr
    receiver = func.value
    if method == "format":
        template = recover(receiver, env)
        if template is None or not template.has_text:
            return None
        composed = isinstance(receiver, ast.Call) and _is_psycopg_sql(env.qualify(receiver.func) or "")
        return _format(template, node, env, composed)
    if method == "join" and (node.args or node.keywords):
        sep = recover(receiver, env)
        if sep is None or not _is_static(sep):
            return None
        items = _first_arg(node)
        parts = None
        if isinstance(items, (ast.List, ast.Tuple)):
            parts = [None if isinstance(el, ast.Starred) else recover(el, env) for el in items.elts]
        elif isinstance(items, ast.Name) and len(node.args) == 1 and not node.keywords:
            parts = env.sequence(items)
        if parts and all(p is not None for p in parts):
            out = Recovered()
            for i, part in enumerate(parts):
                if i:
                    out = out + sep
                out = out + part
            return out
        return hole("concat", env.code(node))
    if method in _SAME_TEXT_METHODS:
        return recover(receiver, env)
    return None


# Identifier quoting by the driver or framework: the same guarantee as psycopg's
# sql.Identifier, which SPEC exempts from TL106.
_QUOTING = {"quote_name", "quote_ident", "quote_identifier", "Identifier", "quoted_name", "escape_identifier"}


def _kind(expr: ast.expr | None, default: str) -> str:
    if isinstance(expr, ast.Call):
        func = expr.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _QUOTING:
            return "composed"
    return default


def _is_psycopg_sql(qualified: str) -> bool:
    return qualified in ("psycopg.sql.SQL", "psycopg2.sql.SQL", "sql.SQL") or qualified.endswith(".sql.SQL")


def _format(template: Recovered, call: ast.Call, env: RecoveryLookups, composed: bool) -> Recovered:
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    named = {k.arg: k.value for k in call.keywords if k.arg is not None}
    has_star = any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)
    out = Recovered(nodes=template.nodes)
    auto = 0
    formatter = string.Formatter()
    for piece in template.pieces:
        if not isinstance(piece, str):
            out.pieces.append(piece)
            continue
        try:
            parsed = list(formatter.parse(piece))
        except ValueError:
            out.pieces.append(piece)
            continue
        for literal, field_name, _spec, _conv in parsed:
            out.pieces.append(literal)
            if field_name is None:
                continue
            head = re.split(r"[.\[]", field_name, maxsplit=1)[0]
            if head == "":
                arg = positional[auto] if auto < len(positional) else None
                auto += 1
            elif head.isdigit():
                index = int(head)
                arg = positional[index] if index < len(positional) else None
            else:
                arg = named.get(head)
            label = head or (env.code(arg) if arg is not None else "")
            if composed:
                value = recover(arg, env) if arg is not None else None
                if value is not None and _is_static(value) and isinstance(arg, ast.Call) and _is_psycopg_sql(
                        env.qualify(arg.func) or ""):
                    out.pieces.extend(value.pieces)
                else:
                    out.pieces.append(HolePiece("composed", label))
                continue
            value = recover(arg, env) if arg is not None and head == field_name else None
            if value is not None:
                out.pieces.extend(value.pieces)
            else:
                out.pieces.append(HolePiece(_kind(arg, "format"), label if not has_star or arg is not None else head))
    return out
