"""The project's own memoizing decorators that keep results in a shared store.

A decorator (or a factory of one: `def redis_cache(key_func, prefix): def decorator(func):
...`) whose wrapper takes `*args`/`**kwargs`, calls the decorated function, and reads or
writes a cache under a key built only from the factory's parameters and the wrapper's
arguments (`f"{prefix}:{key_func(*args, **kwargs)}"`) memoizes that function on its
arguments, as `cachetools.cached` does. Its store calls are not findings where the
decorator is written (the key is whatever each use makes of the function's arguments):
each function it decorates is judged as memoized (TL407: its result may depend on the
ambient tenant while no argument, and no argument given to the decorator, carries it).

The catalog pass records the candidates by their shape (`MemoDecoratorFact`): the
wrapper's calls whose first argument is such a key, as (the callable that made the
receiver, method). Once every wrapper class and module-level handle of the project is
known, a candidate whose calls include a cache call is a memoizing decorator
(`memo_decorators`)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from tenantlint.names import dotted
from tenantlint.packs import ArgRef, CallSpec
from tenantlint.stores.wrappers import WRAPPER, built_from, find_wrapper

_RETURNS = "returns:"


@dataclass(frozen=True)
class MemoDecoratorFact:
    """Candidates of one module: (function, its parameters, ((receiver maker, method, line), ...))."""

    path: str
    module: str
    candidates: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str, int], ...]], ...] = ()


def candidates(tree: ast.Module, qualify) -> list[tuple[str, tuple[str, ...], tuple[tuple[str, str, int], ...]]]:
    out = []
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        found = _decorator(func)
        if found is None:
            continue
        outer, decorator, decorated = found
        names = {a.arg for a in _params(outer)} if outer is not None else set()
        calls = []
        for inner in ast.walk(decorator):
            if inner is decorator or not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            varargs = {a.arg for a in (inner.args.vararg, inner.args.kwarg) if a is not None}
            if not varargs:
                continue
            calls += _keyed_calls(inner, names | varargs, qualify)
        if calls:
            params = tuple(a.arg for a in _params(outer)) if outer is not None else ()
            out.append((func.name, params, tuple(sorted(set(calls)))))
    return out


def _params(func) -> list[ast.arg]:
    return [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]


def _decorator(func) -> tuple | None:
    """(factory or None, decorator, its parameter) when `func` is a decorator (one
    parameter, a nested wrapper with `*args`/`**kwargs` calling it) or returns one."""
    for outer, decorator in ((None, func), *((func, d) for d in func.body
                                              if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)))):
        params = [*decorator.args.posonlyargs, *decorator.args.args]
        if len(params) != 1:
            continue
        decorated = params[0].arg
        for wrapper in decorator.body:
            if isinstance(wrapper, (ast.FunctionDef, ast.AsyncFunctionDef)) and (wrapper.args.vararg or wrapper.args.kwarg) \
                    and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == decorated
                            for n in ast.walk(wrapper)):
                return outer, decorator, decorated
    return None


def _keyed_calls(func, names: set[str], qualify) -> list[tuple[str, str, int]]:
    """Method calls of `func` whose first argument is built from `names` alone (and
    constants), with the callable that made their receiver."""
    locals_: dict[str, ast.expr] = {}
    counts: dict[str, int] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            counts[name] = counts.get(name, 0) + 1
            locals_[name] = node.value
    locals_ = {k: v for k, v in locals_.items() if counts[k] == 1}
    out = []
    for node in ast.walk(func):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or not node.args:
            continue
        used = None if isinstance(node.args[0], ast.Starred) else built_from(node.args[0], names, locals_.get)
        if not used:
            continue
        maker = _maker(node.func.value, locals_, qualify)
        if maker:
            out.append((maker, node.func.attr, node.lineno))
    return out


def _maker(node: ast.expr, locals_: dict, qualify) -> str | None:
    """The qualified callable (or module-level name) a receiver comes from:
    `client = await get_client()` -> `app.cache.get_client`."""
    for _ in range(4):
        if isinstance(node, ast.Await):
            node = node.value
        elif isinstance(node, ast.Name) and node.id in locals_:
            node = locals_[node.id]
        else:
            break
    if isinstance(node, ast.Call):
        node = node.func
    return qualify(node) if dotted(node) else None


def memo_decorators(facts: Iterable[MemoDecoratorFact], wrappers: dict, modules, api) -> dict[str, CallSpec]:
    """Qualified decorator -> a `memoize` entry (its parameters build the key), for the
    candidates that call a cache: a wrapper class or factory of the project, a
    module-level handle, or a client a pack constructs."""
    out = {}
    for fact in facts:
        for name, params, calls in fact.candidates:
            if any(_caches(maker, method, wrappers, modules, api) for maker, method, _line in calls):
                qualified = f"{fact.module}.{name}"
                out[qualified] = CallSpec(role="memoize", pack="project", label=name, prefix=tuple(
                    ArgRef(position=i, keyword=p) for i, p in enumerate(params)))
    return out


def memo_lines(facts: Iterable[MemoDecoratorFact], decorators: dict) -> dict[str, frozenset[int]]:
    """Module -> the lines of the keyed calls inside its memoizing decorators."""
    out: dict[str, set[int]] = {}
    for fact in facts:
        for name, _params, calls in fact.candidates:
            if f"{fact.module}.{name}" in decorators:
                out.setdefault(fact.module, set()).update(line for _m, _meth, line in calls)
    return {module: frozenset(lines) for module, lines in out.items()}


def _caches(maker: str, method: str, wrappers: dict, modules, api) -> bool:
    kinds = []
    wrapper = find_wrapper(wrappers, maker)
    if wrapper is not None:
        info = wrapper[1]
        forwarded = info.methods.get(method)
        if forwarded is not None:
            return forwarded[0] == "cache"
        kinds.append(info.kind)
    handle = modules.handle(maker) if modules is not None else None
    if handle is not None:
        kind = handle[0][len(_RETURNS):] if handle[0].startswith(_RETURNS) else handle[0]
        if kind.startswith(WRAPPER):
            info = wrappers.get(kind[len(WRAPPER):])
            if info is not None and method in info.methods:
                return info.methods[method][0] == "cache"
            kind = info.kind if info is not None else ""
        kinds.append(kind)
    kinds += [p.returns for p in api.constructor(maker)]
    return any(spec.role == "cache" for kind in kinds if kind for spec in api.calls_on(kind, method))
