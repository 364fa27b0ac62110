"""Does an expression read the ambient tenant: the tenant of the request or task in
progress, reached through global state rather than through an argument (TL407)?

What the authenticated tenant is comes from `tenantlint/tenant_sources.py` (the
`tenant-sources` config key and the built-in guesses: `g.tenant_id`, `request.tenant.id`,
a ContextVar or thread-local named after the tenant). A read is ambient when it is not
reached through a parameter or local of the function in hand (`self.tenant_id` and a
Django view's `request.tenant` are arguments). Added here:

* a `.get()` of any ContextVar or thread-local of the module;
* a getter that says so: `get_current_tenant()`, `current_org()` (no arguments);
* a project function known to read the ambient tenant itself (`ambient_functions`, built
  from every module in the catalog pass, so a helper in another file counts).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable

from tenantlint.names import dotted
from tenantlint.tenant_sources import TenantSources

_WORD = re.compile(r"[a-z0-9]+")
_GETTER_WORDS = {"current", "active", "ambient", "get"}



@dataclass(frozen=True)
class AmbientFact:
    """The module-level functions of one module that read the ambient tenant themselves
    (`direct`), and for the others, which project functions they call (qualified names):
    the catalog closes over calls across modules."""

    path: str
    module: str
    direct: tuple[str, ...] = ()
    calls: tuple[tuple[str, tuple[str, ...]], ...] = ()


def ambient_functions(facts: Iterable[AmbientFact]) -> frozenset[str]:
    """Qualified names of the project functions that read the ambient tenant, directly or
    through other project functions (a fixpoint over the call facts)."""
    found: set[str] = set()
    calls: dict[str, tuple[str, ...]] = {}
    for fact in facts:
        found.update(f"{fact.module}.{name}" for name in fact.direct)
        for name, callees in fact.calls:
            calls[f"{fact.module}.{name}"] = callees
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            if name not in found and any(_known(c, found) for c in callees):
                found.add(name)
                changed = True
    return frozenset(found)


def _known(qualified: str, names: set[str] | frozenset[str]) -> bool:
    """`qualified` or a dotted suffix of it names one of `names` (a project laid out under
    `src/` imports `app.ctx.x` for `src.app.ctx.x`)."""
    if qualified in names:
        return True
    return "." in qualified and any(n.endswith("." + qualified) for n in names)


class AmbientTenant:
    """Per file: whether an expression reads the ambient tenant (see the module docstring).
    `sources` answers what the authenticated tenant is (`tenantlint/tenant_sources.py`);
    this adds what makes a read *ambient*: it is not reached through an argument."""

    def __init__(self, sources: TenantSources, helpers: frozenset[str] = frozenset()) -> None:
        self.sources = sources
        self.helpers = helpers
        self.qualify = sources._qualify

    def named_tenant(self, name: str) -> bool:
        return self.sources.named_after_tenant(name)

    def reads(self, node: ast.AST, params: set[str] | frozenset[str]) -> str | None:
        """The text of an ambient tenant read at `node` (None: not one). `params`: names
        that are arguments or locals of the function in hand."""
        if isinstance(node, ast.Call):
            return self._call(node, params)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = dotted(node)
            if name is None or name.split(".")[0] in params or not self._maybe(name):
                return None
            return name if self.sources.names_tenant(node) else None
        return None

    def _maybe(self, name: str) -> bool:
        """Could this dotted name be a tenant read at all (a cheap test before the real one)?"""
        if self.sources.values or self.sources.calls:
            return True
        pieces = name.split(".")
        return pieces[0] in self.sources.locals or any(self.sources.named_after_tenant(p) for p in pieces)

    def _call(self, call: ast.Call, params) -> str | None:
        func = call.func
        name = dotted(func)
        if name is None or name.split(".")[0] in params:
            return None
        if self.helpers:
            qualified = self.qualify(func)
            if qualified and _known(qualified, self.helpers):
                return name + "()"
        if not self._maybe(name):
            return None
        if self.sources.names_tenant(call):
            return name + "()"
        if isinstance(func, ast.Attribute) and func.attr == "get" and len(call.args) <= 1 \
                and dotted(func.value) in self.sources.locals:
            return name + "()"  # a ContextVar of this module, whatever its name
        if call.args or call.keywords:
            return None
        last = name.rsplit(".", 1)[-1]
        words = set(_WORD.findall(last.lower().replace("_", " ")))
        if words & _GETTER_WORDS and self.named_tenant(last) and not last.endswith("s"):
            return name + "()"  # `get_current_tenant()`
        return None


def function_params(func: ast.AST) -> set[str]:
    """The names a function binds itself: parameters, and names assigned in its body
    (a local shadows the global of the same name; a `global` declaration does not bind)."""
    return _params(func, list(ast.walk(func)))


def body_nodes(func: ast.AST):
    """The nodes of a function's body, not descending into nested classes and defs (their
    bodies run later, on their own calls)."""
    stack = list(getattr(func, "body", []))
    if isinstance(func, ast.Lambda):
        stack = [func.body]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            stack.append(child)


def first_read(ambient: AmbientTenant, func: ast.AST, params=None) -> tuple[ast.AST, str] | None:
    """The first ambient tenant read in a function's body (in source order), if any."""
    return scan(ambient, func, params)[0]


def scan(ambient: AmbientTenant, func: ast.AST, params=None) -> tuple[tuple[ast.AST, str] | None, list[ast.Call]]:
    """One walk of a function's body: its first ambient tenant read (in source order), and
    its calls."""
    nodes = list(body_nodes(func))
    if params is None:
        params = _params(func, nodes)
    found = []
    calls = []
    for node in nodes:
        if isinstance(node, ast.Call):
            calls.append(node)
        elif not isinstance(node, ast.Attribute):
            continue
        what = ambient.reads(node, params)
        if what is not None:
            found.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), node, what))
    if not found:
        return None, calls
    found.sort(key=lambda f: (f[0], f[1]))
    return (found[0][2], found[0][3]), calls


def _params(func: ast.AST, nodes: list[ast.AST]) -> set[str]:
    """`function_params` from the already-walked body nodes."""
    names: set[str] = set()
    args = getattr(func, "args", None)
    if args is not None:
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                names.add(arg.arg)
    declared: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Global):
            declared.update(node.names)
    return names - declared
