"""TL407: results memoized, or kept in process-global state, across tenants.

A memoizing decorator (the `memoize` entries of the packs: functools, cachetools,
Flask-Caching, aiocache, async-lru) keys its entries by the function's arguments only.
When the function reads the ambient tenant (`tenantlint/ambient.py`: a ContextVar,
`g.tenant_id`, a getter, a project helper that does) and no argument carries the tenant
(`self` does: a per-tenant object memoizes per tenant), the first tenant's result is
served to the next one: reported at the `def`.

Process-global state used as a cache is the same leak, in code that runs per tenant (it
takes a tenant argument or reads the ambient tenant): a store into a module-level dict
whose key has no tenant component, or a `global` name assigned a value built from the
tenant (a client made with one tenant's credentials): reported at the store."""
from __future__ import annotations

import ast
import re

from tenantlint.ambient import AmbientTenant, body_nodes, first_read, function_params
from tenantlint.diagnostics import Severity
from tenantlint.names import dotted
from tenantlint.rulebase import Checker, Rule
from tenantlint.stores.bindings import _assignments, _self_assignments
from tenantlint.stores.walker import ApiChecker

# Worth a walk: a decorator that may memoize, a `global` statement, or a module-level dict.
_SCREEN = re.compile(
    r"^[ \t]*@[\w.]*(?:cache|cached|memoize|lru_cache|ttl_cache|alru_cache)\b"
    r"|^[ \t]+global[ \t]"
    r"|^\w+[ \t]*(?::[^=\n]*)?=[ \t]*(?:\{[ \t]*\}|dict\(\)|(?:collections\.)?(?:OrderedDict|defaultdict)\()",
    re.M)
_DICT_MAKERS = {"dict", "collections.OrderedDict", "collections.defaultdict", "OrderedDict", "defaultdict"}
_NOT_SELF = {"staticmethod", "classmethod"}


class MemoChecker(ApiChecker):
    """Memoized functions and process-global caches that outlive one tenant (TL407)."""

    codes = ("TL407",)
    roles = ("memoize",)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.active = ctx.imports is not None and self.wants(ctx.source, ctx.catalog, ctx.settings)
        self.ambient = AmbientTenant(ctx.tenant_sources, helpers=getattr(ctx.catalog, "ambient", frozenset()))
        self.module_dicts: set[str] = set()
        self.frames: list[_Frame] = []
        self.in_class: list[bool] = [False]
        self.class_dicts: list[tuple[str, set[str]]] = []  # (class, its class-level dicts)

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        return _SCREEN.search(source) is not None or _names_memo_decorator(catalog, source)

    # -- structure ------------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        super().visit_Module(node)
        if not self.active:
            return
        for name, value in _assignments(node.body, deep=False):
            if self._is_dict(value):
                self.module_dicts.add(name)

    def _is_dict(self, value: ast.expr) -> bool:
        if isinstance(value, ast.Dict):
            return not value.keys
        if isinstance(value, ast.Call) and dotted(value.func):
            return (self.ctx.imports.qualify(value.func) or "") in _DICT_MAKERS or dotted(value.func) in _DICT_MAKERS
        return False

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        super().visit_ClassDef(node)
        self.in_class.append(True)
        # `_cache = {}` in the class body: shared by every instance, unless an instance
        # gets its own (`self._cache = {}`)
        shared = {name for name, value in _assignments(node.body, deep=False) if self._is_dict(value)} \
            if self.active else set()
        if shared:
            shared -= {attr for stmt in node.body if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for attr, _value, _annotation in _self_assignments(stmt)}
        self.class_dicts.append((node.name, shared))

    def leave_ClassDef(self, original_node: ast.ClassDef) -> None:
        self.class_dicts.pop()
        super().leave_ClassDef(original_node)
        self.in_class.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        method = self.in_class[-1]
        if self.active:
            self._judge_memoized(node, method)
        super().visit_FunctionDef(node)
        self.in_class.append(False)
        self.frames.append(_Frame(node, method))

    def leave_FunctionDef(self, original_node: ast.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        self.in_class.pop()
        self.frames.pop()

    # -- memoizing decorators -------------------------------------------------------
    def _judge_memoized(self, func: ast.FunctionDef, method: bool) -> None:
        for decorator in func.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else ast.Call(decorator, [], [])
            matched = [m for m in self.matches(call) if m[0].role == "memoize"]
            if not matched:
                continue
            if self._keyed_by_tenant(func, method, call, matched):
                return
            read = first_read(self.ambient, func)
            if read is None:
                return
            label = dotted(call.func) or "memoize"
            self._report_def(func, f"`{func.name}` is memoized by `@{label}` on its arguments only, but its result "
                                   f"depends on the ambient tenant (`{_short(read[1])}`): one tenant's result is "
                                   f"served to the next")
            return

    def check(self, call, role, matched) -> None:
        """Decorator calls are judged with the function they decorate (`visit_FunctionDef`)."""

    def _keyed_by_tenant(self, func, method: bool, call: ast.Call, matched) -> bool:
        args = func.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, (args.vararg, args.kwarg))]
        decorators = {(dotted(d) or "").rsplit(".", 1)[-1] for d in func.decorator_list}
        if method and params and not decorators & _NOT_SELF and params[0].arg == "self":
            return True  # a per-tenant object memoizes per tenant
        if any(self.ambient.named_tenant(p.arg) for p in params):
            return True
        for spec, _handle, _method in matched:
            for key in self.args(call, spec.prefix):
                if self.tenancy.key_scoped(key) or self._reads_ambient(key):
                    return True
        return False

    def _reads_ambient(self, node: ast.AST) -> bool:
        params = function_params(node) if isinstance(node, ast.Lambda) else set()
        return any(self.ambient.reads(n, params) for n in ast.walk(node))

    def _report_def(self, func: ast.FunctionDef, message: str) -> None:
        start = self.ctx.positions[func].start
        header = f"def {func.name}"
        self.ctx.report("TL407", message, start.line, start.column + 1, start.line, start.column + 1 + len(header)
                        + (6 if isinstance(func, ast.AsyncFunctionDef) else 0), snippet=header)

    # -- process-global state -------------------------------------------------------
    def leave_Assign(self, original_node: ast.Assign) -> None:
        super().leave_Assign(original_node)
        if not self.active or not self.frames:
            return
        for target in original_node.targets:
            if isinstance(target, ast.Subscript):
                self._dict_store(target.value, target.slice, original_node)
            elif isinstance(target, ast.Name) and target.id in self.frames[-1].globals:
                self._global_store(target, original_node.value)

    def visit_Call(self, node: ast.Call) -> None:
        super().visit_Call(node)
        func = node.func
        if self.active and self.frames and isinstance(func, ast.Attribute) and func.attr == "setdefault" \
                and node.args:
            self._dict_store(func.value, node.args[0], node)

    def _dict_store(self, container: ast.expr, key: ast.expr, node: ast.AST) -> None:
        frame = self.frames[-1]
        if not (isinstance(container, ast.Name) and container.id in self.module_dicts
                and container.id not in frame.locals) and not self._class_dict(container):
            return
        why = self._per_tenant(frame)
        if why is None or self.tenancy.key_scoped(key):
            return
        self.report("TL407", node, f"`{self.ctx.code_for(container)}` is a process-wide cache: the key "
                                   f"`{_short(self.ctx.code_for(key))}`"
                                   f" has no tenant component, and this code runs per tenant ({why})")

    def _class_dict(self, container: ast.expr) -> bool:
        """`self._cache`, `cls._cache` or `Registry._cache` for a dict of the class body."""
        if not self.class_dicts or not isinstance(container, ast.Attribute) or not isinstance(container.value, ast.Name):
            return False
        name, shared = self.class_dicts[-1]
        return container.attr in shared and container.value.id in ("self", "cls", name)

    def _global_store(self, target: ast.Name, value: ast.expr) -> None:
        if isinstance(value, ast.Constant):
            return
        frame = self.frames[-1]
        if self._per_tenant(frame) is None:
            return
        source = self._tenant_in(value, frame)
        if source is None:
            return
        self.report("TL407", target, f"`{target.id}` is process-global, built from one tenant's data ({source}) "
                                     f"and then shared by every tenant", end_node=value)

    def _tenant_in(self, value: ast.expr, frame: "_Frame") -> str | None:
        for node in ast.walk(value):
            what = self.ambient.reads(node, frame.locals)
            if what is not None:
                return f"`{_short(what)}`"
        if self.tenancy.key_scoped(value):
            return f"`{_short(self.ctx.code_for(value))}`"
        return None

    def _per_tenant(self, frame: "_Frame") -> str | None:
        if frame.why is _UNSET:
            why = None
            for name in frame.params:
                if self.ambient.named_tenant(name):
                    why = f"it takes `{name}`"
                    break
            if why is None:
                read = first_read(self.ambient, frame.node, frame.locals)
                if read is not None:
                    why = f"it reads `{_short(read[1])}`"
            frame.why = why
        return frame.why


_UNSET = object()


class _Frame:
    """A function being walked: its parameters, local names and `global` declarations."""

    def __init__(self, node: ast.FunctionDef, method: bool) -> None:
        self.node = node
        self.method = method
        args = node.args
        self.params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
                       if a is not None]
        self.globals = {name for stmt in body_nodes(node) if isinstance(stmt, ast.Global) for name in stmt.names}
        self.locals = function_params(node)
        self.why: object = _UNSET


def _names_memo_decorator(catalog, source: str) -> bool:
    """The file names one of the project's memoizing decorators (stores/memo_decorators.py)."""
    decorators = getattr(catalog, "memo_decorators", None)
    return bool(decorators) and any(f"@{q.rsplit('.', 1)[-1]}" in source or f".{q.rsplit('.', 1)[-1]}" in source
                                    for q in decorators)


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 60 else code[:57] + "..."


CHECKERS: tuple[type[Checker], ...] = (MemoChecker,)


class MemoizedWithoutTenant(Rule):
    """
    ## What it does
    Flags a function memoized by `functools.lru_cache` / `cache`, `cachetools.cached`,
    Flask-Caching `memoize` / `cached`, `aiocache.cached`, `async_lru.alru_cache`, or a
    decorator of the project that keeps the result in a cache under a key built from the
    function's arguments and the decorator's own (`@redis_cache(key_func=...)`), whose
    result depends on the ambient tenant (a ContextVar or thread-local tenant, `g.tenant_id`,
    a `tenant-sources` value, or a project helper that reads one) while none of its
    arguments carries the tenant. Also flags process-global state used as a cache in code
    that runs per tenant: a store into a module-level dict whose key has no tenant
    component, and a `global` assigned a value built from one tenant's data.

    ## Why is this bad?
    A memo is keyed by the arguments and nothing else: the first tenant to call
    `invoice_total(42)` fills the entry that every other tenant then reads. A module-level
    dict or a `global` client lives as long as the worker process and serves all tenants.

    ## Example
    ```python
    import contextvars
    import functools

    current_tenant = contextvars.ContextVar("current_tenant")

    @functools.lru_cache(maxsize=256)
    def invoice_total(invoice_id):
        return query("SELECT total FROM invoices WHERE id = %s AND tenant_id = %s",
                     (invoice_id, current_tenant.get()))
    ```

    ## Use instead
    ```python
    import contextvars
    import functools

    current_tenant = contextvars.ContextVar("current_tenant")

    def invoice_total(invoice_id):
        return _invoice_total(current_tenant.get(), invoice_id)

    @functools.lru_cache(maxsize=256)
    def _invoice_total(tenant_id, invoice_id):
        return query("SELECT total FROM invoices WHERE id = %s AND tenant_id = %s",
                     (invoice_id, tenant_id))
    ```

    ## How to fix
    Pass the tenant as an argument of the memoized function (or put it in the decorator's
    key function), key process-wide dicts by tenant, and build per-tenant clients per
    tenant (a dict keyed by tenant, or no global at all).
    """

    code = "TL407"
    name = "memoized-without-tenant"
    severity = Severity.ERROR
    summary = "memoized result or process-global cache that depends on the tenant but is not keyed by it"
