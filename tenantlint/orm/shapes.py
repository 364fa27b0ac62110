"""What a function's shape alone says about the summary it may have (SPEC "Across
functions"): its parameters (optional ones, the ones it tests), whether it narrows a
query it is given, turns `**kwargs` into filters, or returns a value. Read from the
syntax tree only: the catalog pass records these per file (tenantlint.discover.functions)
and the summary pass (tenantlint.orm.summarize) re-checks them on the parsed function."""
from __future__ import annotations

import ast
import re

from tenantlint.names import statements
from tenantlint.orm.checker import _self_name
from tenantlint.orm.common import call_name


def parameters(node) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """(positional parameters without `self`/`cls`, keyword-only ones, those that may be
    None: defaulting to None, or annotated so with no default (`actor: Optional[User]`,
    `org: Org | None`), which callers fill with None when they have no tenant)."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    if positional and _self_name(node) is not None and is_method_like(node):
        positional = positional[1:]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults[-len(positional):] if
                                                                      positional else [])
    optional = [a.arg for a, d in zip(positional, defaults) if _is_none(d) or d is None and _may_be_none(a)]
    optional += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if _is_none(d) or d is None and
                 _may_be_none(a)]
    return tuple(a.arg for a in positional), tuple(a.arg for a in args.kwonlyargs), optional


def is_method_like(node) -> bool:
    positional = [*node.args.posonlyargs, *node.args.args]
    return bool(positional) and positional[0].arg in ("self", "cls", "mcs", "klass") or \
        any(call_name(d) == "classmethod" for d in node.decorator_list)


def _is_none(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _may_be_none(arg: ast.arg) -> bool:
    """`Optional[X]` / `typing.Optional["X"]` / `X | None` / `None | X`, also as a string."""
    note = arg.annotation
    if isinstance(note, ast.Constant) and isinstance(note.value, str):
        text = note.value.replace(" ", "")
        return text.startswith(("Optional[", "typing.Optional[")) or text.endswith("|None") or \
            text.startswith("None|")
    if isinstance(note, ast.Subscript):
        return (call_name(note.value) or "").rsplit(".", 1)[-1] == "Optional"
    if isinstance(note, ast.BinOp) and isinstance(note.op, ast.BitOr):
        return _is_none(note.left) or _is_none(note.right)
    return False


def tested_names(node) -> set[str]:
    """Names used in an `if`/conditional expression test of the body, or passed on to a
    call as they are (a helper handing its optional tenant to another)."""
    out: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.If, ast.IfExp, ast.While)):
            out.update(n.id for n in ast.walk(sub.test) if isinstance(n, ast.Name))
        elif isinstance(sub, ast.Call):
            out.update(a.id for a in sub.args if isinstance(a, ast.Name))
            out.update(k.value.id for k in sub.keywords if isinstance(k.value, ast.Name))
    return out


def filters_by_keywords(code: str, kw: str) -> bool:
    """Does the body turn `**kw` into filters (`filter_by(**kw)`, `for k, v in kw.items():`
    with `getattr(Model, k)`), or hand it on to another call that may?"""
    name = re.escape(kw)
    return bool(re.search(rf"\*\*{name}\s*[,)]", code) or
                re.search(rf"\bin\s+{name}\.items\(\)", code) and "getattr(" in code)


def query_params(node, code: str, params: tuple[str, ...]) -> list[tuple[int, str]]:
    """(position, name) of parameters the body narrows like a query (`query.where(`)."""
    out = []
    for i, param in enumerate(params):
        if f"{param}." in code and re.search(rf"\b{re.escape(param)}\.(?:where|filter|filter_by|join|exclude)\(", code):
            out.append((i, param))
    return out


def returns_value(node) -> bool:
    return any(isinstance(s, ast.Return) and s.value is not None for s in statements(node.body))
