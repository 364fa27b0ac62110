"""The shared half of the catalog-driven checkers: which catalog entries a call matches,
on the handle its receiver resolves to (`handles.py`), with the values names hold where
the call is (`bindings.py`).

When a receiver is unknown, only methods a pack declares `distinctive` match, and only in
a file that imports that pack's library; or a receiver whose name carries a kind's hint
(`engine.connect()`)."""
from __future__ import annotations

import ast
from typing import Iterator

from tenantlint.packs import CallSpec, api_catalog_for
from tenantlint.names import dotted
from tenantlint.rulebase import Checker
from tenantlint.stores.bindings import _UNKNOWN, Binding
from tenantlint.stores.handles import Handle, Resolver
from tenantlint.stores.tenancy import Alternatives, FROM_STORE, for_binding
from tenantlint.stores.wrappers import forwarded_param, key_argument, mentions_wrapper
from tenantlint.words import remembered

_MAX_DEPTH = 16
# functions that call their first argument with the rest (a call of a store method made elsewhere)
_RUNS_CALLABLE = {"asyncio.to_thread", "anyio.to_thread.run_sync", "starlette.concurrency.run_in_threadpool",
                  "fastapi.concurrency.run_in_threadpool"}


class ApiChecker(Resolver, Checker):
    """Base: tracks bindings during the one batched traversal and hands each call that
    matches the catalog to `check(call, spec, handle, method)`."""

    roles: tuple[str, ...] = ()

    def __init__(self, ctx) -> None:
        Checker.__init__(self, ctx)
        api = api_catalog_for(ctx.settings)
        self.packs = api.imported_packs(ctx.source)
        Resolver.__init__(self, ctx, api, ctx.imports is not None and (
            api.worth_visiting(ctx.source, self.packs, self.roles) or _names_handle(ctx.catalog, ctx.source)))

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """The same test as `active`, before the parse: a file that imports none of this
        family's libraries (and names none of the team's own wrappers) has nothing to find."""
        api = api_catalog_for(settings)
        return api.worth_visiting(source, api.imported_packs(source), cls.roles) or _names_handle(catalog, source)

    def get_visitors(self):
        """A file that imports none of the catalog's libraries costs nothing: no visitors."""
        return super().get_visitors() if self.active else {}

    # -- bindings, as the walk passes them (tenantlint/stores/bindings.py) -------------
    def leave_Assign(self, original_node: ast.Assign) -> None:
        self._at(original_node)
        for target in original_node.targets:
            if isinstance(target, ast.Subscript):
                self._store_item(target, original_node.value)
            else:
                self._bind(target, original_node.value)

    def leave_AnnAssign(self, original_node: ast.AnnAssign) -> None:
        if original_node.value is not None:
            self._at(original_node)
            self._bind(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: ast.AugAssign) -> None:
        target = original_node.target
        if isinstance(target, ast.Name) and self.active and len(self.scopes) > 1 and target.id in self.scopes[-1]:
            self._at(original_node)
            # `key += x`: both parts count (a tenant in either is a tenant in the key), for
            # each value that reaches it
            current = self.value_of(target.id)
            addition = original_node.value
            if isinstance(current, Alternatives) and all(isinstance(v, ast.expr) for v in current.values):
                combined = Alternatives(tuple(ast.BinOp(v, ast.Add(), addition) for v in current.values))
            elif isinstance(current, ast.expr):
                combined = ast.BinOp(current, ast.Add(), addition)
            else:
                return
            self._rebind(target.id, Binding(combined))

    def visit_For(self, node: ast.For) -> None:
        self._push(node)
        if not self.active:
            return
        self._at(node)
        iterable = node.iter.value if isinstance(node.iter, ast.Await) else node.iter
        if isinstance(iterable, ast.Call) and any(spec.pattern is not None for spec, _h, _m in self.matches(iterable)):
            self._bind(node.target, FROM_STORE, eager=False)
        else:
            self._bind(node.target, for_binding(node.iter), eager=False)

    def leave_withitem(self, original_node: ast.withitem) -> None:
        if original_node.optional_vars is not None:
            self._at(original_node.context_expr)
            self._bind(original_node.optional_vars, original_node.context_expr)

    def _bind(self, target: ast.expr, value, eager: bool = True) -> None:
        if not self.active:
            return
        scope = self.scopes[-1]
        if isinstance(target, ast.Name):
            binding = self._rebind(target.id, Binding(value))
            if eager and len(self.scopes) > 1 and isinstance(value, ast.expr):
                binding.handle, binding.resolved = self.handle_of(value), True
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                if isinstance(el, ast.Starred):
                    el = el.value
                if isinstance(el, ast.Name):
                    scope[el.id] = Binding(_UNKNOWN, resolved=True,
                                           unpacked=value if isinstance(value, ast.expr) else None)

    # -- calls ------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        if not self.active:
            return
        self._at(node)
        if node.keywords or node.args:
            self._update_dict(node)
        deferred = self._deferred(node)
        for call in (node,) if deferred is None else (node, deferred):
            groups: dict[str, list[tuple[CallSpec, Handle | None, str]]] = {}
            for spec, handle, method in self.matches(call):
                if spec.role in self.roles:
                    groups.setdefault(spec.role, []).append((spec, handle, method))
            for role, matched in groups.items():
                self.check(call, role, matched)

    def _deferred(self, node: ast.Call) -> ast.Call | None:
        """`asyncio.to_thread(storage.save, name, data)`: the call it makes, at its place."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run_in_executor":
            args = node.args[1:]
        elif dotted(func) and self.ctx.imports.qualify(func) in _RUNS_CALLABLE:
            args = node.args
        else:
            return None
        if not args or not isinstance(args[0], ast.Attribute) or any(isinstance(a, ast.Starred) for a in args):
            return None
        call = ast.Call(func=args[0], args=list(args[1:]), keywords=[k for k in node.keywords if k.arg is not None])
        return ast.copy_location(call, node)

    def matches(self, node: ast.Call) -> Iterator[tuple[CallSpec, Handle | None, str]]:
        func = node.func
        qualified = self.ctx.imports.qualify(func) if dotted(func) else None
        method = func.attr if isinstance(func, ast.Attribute) else (dotted(func) or "")
        found = self.api.function_calls(qualified) if qualified else []
        if not found and qualified:  # a memoizing decorator of the project (stores/memo_decorators.py)
            memo = (getattr(self.ctx.catalog, "memo_decorators", None) or {}).get(qualified)
            found = [memo] if memo is not None else []
        if found:
            for spec in found:
                yield spec, None, method
            return
        if not isinstance(func, ast.Attribute) or method not in self._method_names():
            return  # no entry has this method: whatever the receiver, nothing matches
        owner = self.handle_of(func.value)
        if owner is not None:
            specs = self.calls_on(owner.kind, method)
        else:  # an unknown receiver (a parameter, an attribute set elsewhere): distinctive names only
            specs = self.api.distinctive_calls(method, self.packs)
            if specs and self._chain_scoped(func.value):
                owner = Handle("", scoped=True)
        for spec in specs:
            yield spec, owner, method

    def _method_names(self) -> frozenset[str]:
        """Every method name an entry can match through a receiver: the packs' methods
        (distinctive ones included), configured wrappers' and the project wrappers'."""
        names = self.__dict__.get("_methods_known")
        if names is None:
            names = self._methods_known = self.api.method_names() | frozenset(
                method for info in (self.wrappers or {}).values() for method in info.methods)
        return names

    def forwards_callers_key(self, call: ast.Call, matched) -> bool:
        """Inside a forwarding method of a project wrapper class, a call whose key is the
        method's parameter: the key is its caller's, judged at the caller."""
        if not self.class_nodes or not self.wrappers or len(self.scopes) != self.class_nodes[-1][1] + 1:
            return False
        method = self.scope_nodes[-1]
        info = self.wrappers.get(f"{self.ctx.module_name}.{self.class_nodes[-1][0].name}")
        if info is None or not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                or method.name not in info.methods:
            return False
        return all(forwarded_param(key_argument(self.arg, call, spec), method, self.value_of) is not None
                   for spec, _handle, _method in matched)

    def origin(self, name: str):
        """What a name holds where the walk is: its value, or what it was unpacked from."""
        value = self.value_of(name)
        if isinstance(value, ast.expr):
            return value
        binding = self.lookup(name)
        return binding.unpacked if binding is not None else None

    def in_memo_decorator(self, call: ast.Call) -> bool:
        """A keyed store call of a memoizing decorator of the project: its key is the
        decorated function's arguments, judged where the decorator is used."""
        lines = (getattr(self.ctx.catalog, "memo_lines", None) or {}).get(self.ctx.module_name)
        return bool(lines) and call.lineno in lines

    def row_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """(names that are a row of a tenant model, names that hold a value read from one)
        where the walk is (tenantlint/stores/owned.py): `self` in a method of a tenant row
        class, and the parameters of the function that every caller fills with either."""
        catalog = self.ctx.catalog
        if len(self.scopes) < 2:
            return frozenset(), frozenset()
        rows: set[str] = set()
        owner = ""
        if self.class_nodes and self.class_nodes[-1][1] == 1:
            owner = f"{self.ctx.module_name}.{self.class_nodes[-1][0].name}"
            if owner in (getattr(catalog, "row_classes", None) or ()):
                rows.add("self")
        values: set[str] = set()
        function = self.scope_nodes[1]
        params = getattr(catalog, "row_params", None)
        if params and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{owner or self.ctx.module_name}.{function.name}"
            for param, kind in params.get(name, {}).items():
                (rows if kind == "r" else values).add(param)
        return frozenset(rows), frozenset(values)

    def _chain_scoped(self, node: ast.expr) -> bool:
        """A scoping call (`.with_tenant(tid)`) anywhere in an unresolved receiver chain."""
        for _ in range(_MAX_DEPTH):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute):
                    name = node.func.attr
                    for kind in self.api.kinds.values():
                        for production in kind.methods.get(name, ()):
                            if production.scope and self._scopes(production, node):
                                return True
                node = node.func
            elif isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Await):
                node = node.value
            else:
                return False
        return False

    def check(self, call: ast.Call, role: str, matched: list[tuple[CallSpec, Handle | None, str]]) -> None:
        """Judge one call against every entry of `role` it matched (clean if any entry says so)."""
        raise NotImplementedError


@remembered
def _names_handle(catalog, source: str) -> bool:
    """The screen for imported handles: the file names one the catalog knows."""
    index = getattr(catalog, "modules", None)
    if index is not None and bool(index.handles) and index.mentions(source, "handles"):
        return True
    return mentions_wrapper(getattr(catalog, "wrappers", None) or {}, source)
