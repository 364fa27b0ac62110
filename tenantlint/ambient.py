"""Does an expression read the ambient tenant: the tenant of the request or task in
progress, reached through global state rather than through an argument?

The built-in guesses of the contract (SPEC "Configuration", `tenant-sources`):

* a ContextVar named after the tenant: `current_tenant.get()`, `ctx.tenant_var.get(None)`;
* an attribute of request-global state named after it: `g.tenant_id`, `request.tenant.id`,
  `flask.g.org_id`, a thread-local's `_local.tenant`;
* a getter that says so: `get_current_tenant()`, `current_tenant_id()` (no arguments);
* a project function known to read the ambient tenant itself (`AmbientIndex`, built from
  every module in the catalog pass, so a helper in another file counts).

"Named after the tenant" means a tenant column, its relation (`tenant` for `tenant_id`) or
a word containing `tenant`. Anything rooted at a parameter of the function in hand is an
argument, not ambient state (`self.tenant_id`, `request.tenant` in a Django view).

The `tenant-sources` config key will replace the guesses' configuration; `reads` is the
one place that decides."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from tenantlint.names import dotted

_WORD = re.compile(r"[a-z0-9]+")
_REQUEST_GLOBALS = {"request", "g", "session", "flask.request", "flask.g", "flask.session",
                    "quart.request", "quart.g", "starlette_context.context"}
_GETTER_WORDS = {"current", "active", "ambient", "get"}
_LOCAL_HINTS = ("local", "thread")
_LOCAL_MAKERS = {"threading.local", "_threading_local.local", "werkzeug.local.Local", "asgiref.local.Local"}

Qualify = Callable[[ast.AST], "str | None"]


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
    """Per file: whether an expression reads the ambient tenant (see the module docstring)."""

    def __init__(self, tenant_columns, qualify: Qualify, module: ast.Module | None,
                 helpers: frozenset[str] = frozenset(), sources: Iterable[str] = ()) -> None:
        self.columns = {c.lower() for c in tenant_columns}
        self.relations = {c[:-3] for c in self.columns if c.endswith("_id") and len(c) > 3}
        self.qualify = qualify
        self.helpers = helpers
        self.sources = tuple(s for s in sources if s)
        self.context_vars, self.thread_locals = _module_state(module, qualify) if module is not None else (set(), set())

    def named_tenant(self, name: str) -> bool:
        lowered = name.lower()
        if "tenant" in lowered or lowered in self.columns or lowered in self.relations:
            return True
        words = _WORD.findall(lowered)
        return any(w in self.relations for w in words) or any(
            f"{a}_{b}" in self.columns for a, b in zip(words, words[1:]))

    def reads(self, node: ast.AST, params: set[str] | frozenset[str]) -> str | None:
        """The source text's shape of an ambient tenant read at `node` (None: not one).
        `params`: names that are arguments or locals of the function in hand."""
        if isinstance(node, ast.Call):
            return self._call(node, params)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            return self._attribute(node, params)
        return None

    def _configured(self, node: ast.AST) -> bool:
        if not self.sources:
            return False
        qualified = self.qualify(node) if dotted(node) else None
        return bool(qualified) and any(qualified == s or qualified.endswith("." + s) for s in self.sources)

    def _call(self, call: ast.Call, params) -> str | None:
        func = call.func
        name = dotted(func)
        if name is None or name.split(".")[0] in params:
            return None
        if self._configured(func):
            return name + "()"
        if isinstance(func, ast.Attribute) and func.attr == "get" and len(call.args) <= 1:
            owner = dotted(func.value) or ""
            qualified = self.qualify(func.value) or owner
            if qualified in self.context_vars or owner in self.context_vars:
                return f"{owner}.get()"
            if not call.args and not call.keywords and self.named_tenant(owner.rsplit(".", 1)[-1]) \
                    and not owner.rsplit(".", 1)[-1].endswith("s"):  # `tenants.get()` is a mapping
                return f"{owner}.get()"
            if call.args or call.keywords:
                return None
        if call.args or call.keywords:
            qualified = self.qualify(func)
            return name + "()" if qualified and _known(qualified, self.helpers) else None
        last = name.rsplit(".", 1)[-1]
        words = set(_WORD.findall(last.lower()))
        if words & _GETTER_WORDS and self.named_tenant(last) and not last.endswith("s"):
            return name + "()"
        qualified = self.qualify(func)
        if qualified and _known(qualified, self.helpers):
            return name + "()"
        return None

    def _attribute(self, node: ast.Attribute, params) -> str | None:
        name = dotted(node)
        if name is None:
            return None
        parts = name.split(".")
        if parts[0] in params:
            return None
        if self._configured(node):
            return name
        root = self.qualify(ast.Name(parts[0], ast.Load())) or parts[0]
        qualified_prefix = self.qualify(ast.Attribute(ast.Name(parts[0], ast.Load()), parts[1], ast.Load())) \
            if len(parts) > 1 else None
        rest = parts[1:]
        global_state = (parts[0] in _REQUEST_GLOBALS or root in _REQUEST_GLOBALS
                        or root in self.thread_locals or parts[0] in self.thread_locals
                        or any(h in parts[0].lower() for h in _LOCAL_HINTS) and parts[0].startswith("_"))
        if not global_state and qualified_prefix in _REQUEST_GLOBALS:
            global_state, rest = True, parts[2:]
        if global_state and rest and any(self.named_tenant(p) for p in rest):
            return name
        return None


def _module_state(module: ast.Module, qualify: Qualify) -> tuple[set[str], set[str]]:
    """Module-level names bound to a ContextVar and to a thread-local object."""
    context_vars: set[str] = set()
    thread_locals: set[str] = set()
    bound = [(stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target], stmt.value)
             for stmt in module.body if isinstance(stmt, (ast.Assign, ast.AnnAssign))]
    for targets, value in bound:
        if not isinstance(value, ast.Call):
            continue
        made = qualify(value.func) or ""
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if made.endswith("ContextVar"):
                context_vars.add(target.id)
            elif made in _LOCAL_MAKERS:
                thread_locals.add(target.id)
    return context_vars, thread_locals


def function_params(func: ast.AST) -> set[str]:
    """The names a function binds itself: parameters, and names assigned in its body
    (a local shadows the global of the same name)."""
    names: set[str] = set()
    args = getattr(func, "args", None)
    if args is not None:
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                names.add(arg.arg)
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for node in ast.walk(func):
            if isinstance(node, ast.Global):
                names.difference_update(node.names)
    return names


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
    params = function_params(func) if params is None else params
    found = []
    for node in body_nodes(func):
        what = ambient.reads(node, params)
        if what is not None:
            found.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), node, what))
    if not found:
        return None
    found.sort(key=lambda f: (f[0], f[1]))
    return found[0][2], found[0][3]
