"""What a type annotation says about a handle: `def f(r: redis.Redis)`, `async def
get_client() -> Redis`, `@property def index(self) -> "pinecone.Index"`.

An annotation names a handle when it names a class of the API catalog or a team's
configured wrapper class (`[caches]` entries like `"app.cache.Cache.get"` make
`app.cache.Cache` one), possibly wrapped: a string, `Optional[X]`, `X | None`,
`Union[X, None]`, `Annotated[X, ...]`, and for a `@contextmanager` the `X` of its
`Iterator[X]`/`AsyncIterator[X]`/`Generator[X, ...]`. A union of different kinds names none.

A function so annotated is a factory: its kind is `returns:<kind>`, and calling it gives
the handle (a property gives the handle itself)."""
from __future__ import annotations

import ast
from typing import Callable

from tenantlint.packs import ApiCatalog
from tenantlint.names import child_statements, dotted

RETURNS = "returns:"  # the kind of a callable that returns a handle of the kind after it
_PROPERTIES = {"property", "cached_property"}
_CONTEXT_MANAGERS = {"contextmanager", "asynccontextmanager"}
_ITERATORS = {"Iterator", "AsyncIterator", "Generator", "AsyncGenerator", "Iterable", "AsyncIterable"}

Qualify = Callable[[ast.AST], "str | None"]


def annotation_kind(annotation: ast.expr, qualify: Qualify, api: ApiCatalog, iterated: bool = False,
                    depth: int = 0) -> str | None:
    """The kind of handle `annotation` names (see the module docstring); with `iterated`,
    what an iterator annotation yields."""
    if depth > 4:
        return None
    step = depth + 1
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value.strip(), mode="eval").body
        except Exception:  # noqa: BLE001 - not an expression
            return None
    members = _union_members(annotation)
    if members is not None:
        found = {annotation_kind(m, qualify, api, iterated, step) for m in members if not is_none(m)}
        return found.pop() if len(found) == 1 else None
    if isinstance(annotation, ast.Subscript):
        head = (dotted(annotation.value) or "").rsplit(".", 1)[-1]
        inner = annotation.slice
        first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
        if head == "Annotated" or (iterated and head in _ITERATORS):
            return annotation_kind(first, qualify, api, False, step)
        return None
    qualified = qualify(annotation) if dotted(annotation) else None
    if not qualified:
        return None
    for production in api.constructor(qualified):
        if production.arg is None:
            return production.returns
    return None


def function_kind(func: ast.FunctionDef, qualify: Qualify, api: ApiCatalog) -> str | None:
    """The kind of a function of the file: `returns:<kind>` for a factory, `<kind>` for a
    property; None when its return annotation names no handle."""
    if func.returns is None:
        return None
    decorators = {(dotted(d.func if isinstance(d, ast.Call) else d) or "").rsplit(".", 1)[-1]
                  for d in func.decorator_list}
    kind = annotation_kind(func.returns, qualify, api, iterated=bool(decorators & _CONTEXT_MANAGERS))
    if kind is None:
        return None
    return kind if decorators & _PROPERTIES else RETURNS + kind


def definitions(stmts, deep: bool) -> dict[str, ast.FunctionDef]:
    """The functions defined at this level (and inside if/try blocks when deep), by name;
    a later definition wins, except a property's setter or deleter (its getter stays)."""
    out: dict[str, ast.FunctionDef] = {}
    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in stmt.decorator_list):
                out[stmt.name] = stmt
        elif deep and isinstance(stmt, (ast.If, ast.Try)):
            out.update(definitions(child_statements(stmt), deep))
    return out


def is_none(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _union_members(annotation: ast.expr) -> list[ast.expr] | None:
    """The members of `A | B` or `Union[A, B]` / `Optional[A]` (None otherwise)."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return [*(_union_members(annotation.left) or [annotation.left]),
                *(_union_members(annotation.right) or [annotation.right])]
    if isinstance(annotation, ast.Subscript):
        head = (dotted(annotation.value) or "").rsplit(".", 1)[-1]
        inner = annotation.slice
        if head == "Optional":
            return [inner]
        if head == "Union":
            return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    return None
