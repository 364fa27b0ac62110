"""What the methods of the project pass that they read from their own row, for the
object-store rule's tenant-owned buckets (tenantlint/stores/owned.py): a utility that
takes a bucket or a client as a parameter works on a tenant's own bucket when every call
in the project passes one read from a row of a tenant model.

Recorded per method of a module-level class that passes `self` or something read from it
as an argument somewhere (`GCS.read_file(client=self.get_client(), bucket_name=self.bucket,
key=key)`): every call of that method with arguments, what it goes through (a CallFact,
resolved across the project later) and one word per argument:

- `r`: `self`, the row itself;
- `v`: a value read from the row: an attribute of `self`, what a method of it returns
  (`self.get_client()`), a local bound to one (`client, _ = self.get_client_and_bucket()`);
- `p:<name>`: a parameter of the method, passed on untouched;
- `u`: anything else.

Whether the class is a tenant row class is decided once the catalog knows the models. A
method that passes nothing read from `self`, or a file that defines no ORM model, records
nothing: its calls count as passing nothing of a row (fail closed)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from tenantlint.callgraph import CallFact, call_target
from tenantlint.config import Settings
from tenantlint.names import import_map

ROW, VALUE, OTHER = "r", "v", "u"
_MAX_DEPTH = 8


class RowCall(NamedTuple):
    caller: str  # the qualified method: `app.models.Storage.read`
    target: CallFact
    args: tuple[str, ...]  # one word per positional argument, up to the first `*args`
    keywords: tuple[tuple[str, str], ...]  # (keyword, word)
    opaque: bool  # a `*args` or `**kwargs` may fill any parameter


@dataclass(frozen=True)
class RowArgsFact:
    path: str
    calls: tuple[RowCall, ...] = ()


class RowArgs:
    # Files that define ORM models (and their mixins): a row class is a model. A mixin kept
    # in a file of its own with none of these records nothing, and its calls pass no row.
    triggers = (b"models.Model", b"Column(", b"mapped_column", b"declarative_base", b"DeclarativeBase",
                b"peewee", b"db.Model")
    gaps = False

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[RowArgsFact]:
        if not module:
            return []
        qualify = import_map(tree, module).qualify
        calls: list[RowCall] = []
        for cls in tree.body:
            if not isinstance(cls, ast.ClassDef):
                continue
            owner = f"{module}.{cls.name}"
            for method in cls.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    calls.extend(_method_calls(method, owner, qualify))
        return [RowArgsFact(path, tuple(calls))] if calls else []


def _method_calls(method, owner: str, qualify) -> list[RowCall]:
    params = [a.arg for a in (*method.args.posonlyargs, *method.args.args)]
    if not params or params[0] != "self":
        return []
    calls: list[ast.Call] = []
    bound: list[tuple[ast.expr, ast.expr | None]] = []
    for node in ast.walk(method):
        kind = type(node)
        if kind is ast.Call:
            if node.args or node.keywords:
                calls.append(node)
        elif kind is ast.Assign:
            bound.extend((t, node.value) for t in node.targets)
        elif kind is ast.AnnAssign or kind is ast.AugAssign or kind is ast.For or kind is ast.AsyncFor \
                or kind is ast.comprehension:
            bound.append((node.target, node.value if kind is ast.AnnAssign else None))
        elif kind is ast.withitem and node.optional_vars is not None:
            bound.append((node.optional_vars, None))
        elif kind is ast.NamedExpr:
            bound.append((node.target, node.value))
    if not calls:
        return []
    locals_ = _locals(bound)
    words = _Words(frozenset(params[1:] + [a.arg for a in method.args.kwonlyargs]), locals_)
    described = []
    found_row = False
    for call in calls:
        star = next((i for i, a in enumerate(call.args) if isinstance(a, ast.Starred)), len(call.args))
        args = tuple(words.word(a) for a in call.args[:star])
        keywords = tuple((k.arg, words.word(k.value)) for k in call.keywords if k.arg is not None)
        found_row = found_row or ROW in args or VALUE in args or any(w in (ROW, VALUE) for _k, w in keywords)
        described.append((call, args, keywords, star < len(call.args) or any(k.arg is None for k in call.keywords)))
    if not found_row:
        return []

    def value_of(node):
        return locals_.get(node.id) if isinstance(node, ast.Name) else None

    sites = []
    for call, args, keywords, opaque in described:
        target = call_target(call, qualify, owner, "self", value_of)
        if target is not None:
            sites.append(RowCall(f"{owner}.{method.name}", target, args, keywords, opaque))
    return sites


def _locals(bound) -> dict[str, ast.expr]:
    """Names the method binds once: name -> value (for a tuple target, what it was
    unpacked from). A name bound twice, or by a loop or `with`, is left out."""
    seen: dict[str, int] = {}
    values: dict[str, ast.expr] = {}
    for target, value in bound:
        names = [target] if isinstance(target, ast.Name) else [
            e.value if isinstance(e, ast.Starred) else e for e in getattr(target, "elts", ())]
        for name in names:
            if isinstance(name, ast.Name):
                seen[name.id] = seen.get(name.id, 0) + 1
                if value is not None:
                    values[name.id] = value
    return {name: value for name, value in values.items() if seen.get(name) == 1}


class _Words:
    def __init__(self, params: frozenset[str], locals_: dict[str, ast.expr]) -> None:
        self.params = params
        self.locals = locals_

    def word(self, node: ast.AST, depth: int = 0) -> str:
        if isinstance(node, ast.Name):
            if node.id == "self":
                return ROW
            if node.id in self.params and node.id not in self.locals:
                return f"p:{node.id}"
            value = self.locals.get(node.id)
            return self.word(value, depth + 1) if value is not None and depth < _MAX_DEPTH else OTHER
        return VALUE if _read_from_self(node, self.locals, depth) else OTHER


def _read_from_self(node: ast.AST, locals_: dict[str, ast.expr], depth: int) -> bool:
    """An attribute of `self`, or what a call on one returns (`self.bucket`,
    `self.get_client()`, `str(self.container)`), through locals."""
    while depth < _MAX_DEPTH:
        depth += 1
        if isinstance(node, (ast.Await, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in ("str", "bool") and len(node.args) == 1:
                node = node.args[0]  # a cast of a value of the row
            else:
                node = node.func
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return True
            node = node.value
        elif isinstance(node, ast.Name):
            value = locals_.get(node.id)
            if value is None:
                return False
            node = value
        else:
            return False
    return False


DISCOVERERS: tuple = (RowArgs(),)
