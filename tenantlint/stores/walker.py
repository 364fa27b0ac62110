"""The shared half of the catalog-driven checkers: which names are bound to what, which
handle (a redis client, a Pinecone index, an S3 client...) an expression evaluates to, and
which catalog entries a call matches.

Receivers are resolved from imports (`ImportMap`), module-level and function-local
assignments, `with ... as name`, `self.x = ...` anywhere in the class, and attribute and
method chains through the catalog's kinds (`wv.collections.get("Docs").query`). When a
receiver is unknown, only methods a pack declares `distinctive` match, and only in a file
that imports that pack's library; or a receiver whose name carries a kind's hint
(`engine.connect()`). No libcst metadata beyond positions: this is cheap."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from tenantlint.apis import ArgRef, CallSpec, Catalog, Production, catalog_for
from tenantlint.names import dotted
from tenantlint.rulebase import Checker
from tenantlint.stores.tenancy import Alternatives, FROM_STORE, Tenancy, for_binding

_MAX_DEPTH = 16
_UNKNOWN = object()  # a name bound to something we cannot follow (parameter, tuple target)


@dataclass(frozen=True)
class Handle:
    kind: str
    scoped: bool = False  # a tenant handle: `with_tenant(tid)`, a store built with a tenant namespace


@dataclass
class Binding:
    value: object  # an expression, a for-binding, or _UNKNOWN
    handle: Handle | None = None
    resolved: bool = False
    blocks: tuple[int, ...] = ()  # the conditional blocks the binding was made in
    others: tuple = ()  # values bound on other paths that may reach a use


class ApiChecker(Checker):
    """Base: tracks bindings during the one batched traversal and hands each call that
    matches the catalog to `check(call, spec, handle, method)`."""

    roles: tuple[str, ...] = ()

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.api: Catalog = catalog_for(ctx.settings)
        self.packs = self.api.imported_packs(ctx.source)
        self.active = ctx.imports is not None and self.api.worth_visiting(ctx.source, self.packs, self.roles)
        self.module_scope: dict[str, Binding] = {}
        self.scopes: list[dict[str, Binding]] = [self.module_scope]
        self.classes: list[dict[str, Binding]] = []
        self.tenancy = Tenancy(ctx.settings.tenant_columns, ctx.settings.global_key_prefixes,
                               self.value_of, ctx.code_for)
        self._resolving: set[int] = set()
        self.blocks: list[int] = []

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """The same test as `active`, before the parse: a file that imports none of this
        family's libraries (and names none of the team's own wrappers) has nothing to find."""
        api = catalog_for(settings)
        return api.worth_visiting(source, api.imported_packs(source), cls.roles)

    def get_visitors(self):
        """A file that imports none of the catalog's libraries costs nothing: no visitors."""
        return super().get_visitors() if self.active else {}

    # -- bindings ---------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        if self.active:
            for target, value in _assignments(node.body, deep=True):
                self.module_scope[target] = Binding(value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        attrs: dict[str, Binding] = {}
        if self.active:
            for target, value in _assignments(node.body.body, deep=False):
                attrs[target] = Binding(value)
            for stmt in node.body.body:
                if isinstance(stmt, cst.FunctionDef):
                    for target, value in _self_assignments(stmt):
                        attrs.setdefault(target, Binding(value))
        self.classes.append(attrs)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope: dict[str, Binding] = {}
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope[param.name.value] = Binding(_UNKNOWN, self._annotated(param), resolved=True)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope[star.name.value] = Binding(_UNKNOWN, resolved=True)
        self.scopes.append(scope)

    def _annotated(self, param: cst.Param) -> Handle | None:
        """`def f(r: redis.Redis)`: a parameter annotated with a catalog class is that handle."""
        if not self.active or param.annotation is None:
            return None
        annotation = param.annotation.annotation
        if isinstance(annotation, cst.SimpleString):
            try:
                annotation = cst.parse_expression(annotation.evaluated_value)
            except Exception:  # noqa: BLE001 - not an expression
                return None
        qualified = self.ctx.imports.qualify(annotation) if dotted(annotation) else None
        for production in self.api.constructor(qualified) if qualified else ():
            if production.arg is None:
                return Handle(production.returns)
        return None

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append({p.name.value: Binding(_UNKNOWN, resolved=True) for p in node.params.params})

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._bind(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        target = original_node.target
        if isinstance(target, cst.Name) and self.active and len(self.scopes) > 1:
            previous = self.scopes[-1].get(target.value)
            if previous is not None and isinstance(previous.value, cst.BaseExpression):
                # `key += x`: both parts count (a tenant in either is a tenant in the key)
                combined = cst.BinaryOperation(previous.value, cst.Add(), original_node.value)
                self.scopes[-1][target.value] = Binding(combined)

    # Conditional blocks: a name rebound inside one keeps its earlier value as an
    # alternative, since the block may not run.
    def visit_If(self, node) -> None:
        self.blocks.append(id(node))

    def leave_If(self, original_node) -> None:
        self.blocks.pop()

    # An `else`, a handler and a match case are alternatives to their siblings.
    visit_While = visit_Try = visit_TryStar = visit_Match = visit_Else = visit_ExceptHandler = visit_If
    visit_ExceptStarHandler = visit_MatchCase = visit_If
    leave_While = leave_Try = leave_TryStar = leave_Match = leave_For = leave_Else = leave_If
    leave_ExceptHandler = leave_ExceptStarHandler = leave_MatchCase = leave_If

    def visit_For(self, node: cst.For) -> None:
        self.blocks.append(id(node))
        if not self.active:
            return
        iterable = node.iter.expression if isinstance(node.iter, cst.Await) else node.iter
        if isinstance(iterable, cst.Call) and any(spec.pattern is not None for spec, _h, _m in self.matches(iterable)):
            self._bind(node.target, FROM_STORE, eager=False)
        else:
            self._bind(node.target, for_binding(node.iter), eager=False)

    def leave_WithItem(self, original_node: cst.WithItem) -> None:
        if original_node.asname is not None:
            self._bind(original_node.asname.name, original_node.item)

    def _bind(self, target: cst.BaseExpression, value, eager: bool = True) -> None:
        if not self.active:
            return
        scope = self.scopes[-1]
        if isinstance(target, cst.Name):
            binding = Binding(value, blocks=tuple(self.blocks))
            previous = scope.get(target.value)
            if previous is not None and previous.blocks != binding.blocks and len(self.scopes) > 1:
                # Bound on another path (a branch, a loop): both values may reach a use.
                binding.others = (*previous.others, previous.value)
            if eager and len(self.scopes) > 1 and isinstance(value, cst.BaseExpression):
                binding.handle, binding.resolved = self.handle_of(value), True
            scope[target.value] = binding
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                if isinstance(el.value, cst.Name):
                    scope[el.value.value] = Binding(_UNKNOWN, resolved=True)

    def lookup(self, name: str) -> Binding | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def value_of(self, name: str):
        """What a name is bound to, for key and filter judgement (None: judge the name)."""
        binding = self.lookup(name)
        if binding is None or binding.value is _UNKNOWN:
            return None
        here = tuple(self.blocks)
        if binding.others and here[:len(binding.blocks)] != binding.blocks:
            # Used outside the block that made the last binding: earlier values may reach.
            values = (*binding.others, binding.value)
            return None if any(v is _UNKNOWN for v in values) else Alternatives(values)
        return binding.value

    # -- handles ----------------------------------------------------------------------
    def handle_of(self, node: cst.BaseExpression, depth: int = 0) -> Handle | None:
        if depth > _MAX_DEPTH:
            return None
        step = depth + 1
        if isinstance(node, cst.Await):
            return self.handle_of(node.expression, step)
        if isinstance(node, cst.Name):
            binding = self.lookup(node.value)
            if binding is not None:
                return self._binding_handle(binding, step) or self._hinted(node.value)
            return self._object(node) or self._hinted(node.value)
        if isinstance(node, cst.Attribute):
            attr = node.attr.value
            if isinstance(node.value, cst.Name) and node.value.value in ("self", "cls") and self.classes:
                binding = self.classes[-1].get(attr)
                if binding is not None:
                    return self._binding_handle(binding, step) or self._hinted(attr)
                return self._hinted(attr)
            owner = self.handle_of(node.value, step)
            if owner is not None:
                kind = self.api.kinds.get(owner.kind)
                if kind is not None and attr in kind.attributes:
                    return Handle(kind.attributes[attr], owner.scoped)
                return None
            return self._object(node) or self._hinted(attr)
        if isinstance(node, cst.Call):
            func = node.func
            qualified = self.ctx.imports.qualify(func) if dotted(func) else None
            if qualified:
                for production in self.api.constructor(qualified):
                    if self._applies(production, node):
                        return Handle(production.returns, self._scopes(production, node))
            if isinstance(func, cst.Attribute):
                owner = self.handle_of(func.value, step)
                if owner is not None:
                    kind = self.api.kinds.get(owner.kind)
                    if kind is None:
                        return None
                    for production in kind.methods.get(func.attr.value, ()):
                        if self._applies(production, node):
                            return Handle(production.returns, owner.scoped or self._scopes(production, node))
                    if kind.chain:
                        return owner
            return None
        if isinstance(node, cst.Subscript):
            owner = self.handle_of(node.value, step)
            kind = self.api.kinds.get(owner.kind) if owner else None
            if kind is not None and kind.item:
                return Handle(kind.item, owner.scoped)
            return None
        return None

    def _binding_handle(self, binding: Binding, depth: int) -> Handle | None:
        if binding.resolved:
            return binding.handle
        if not isinstance(binding.value, cst.BaseExpression) or id(binding) in self._resolving:
            return None
        self._resolving.add(id(binding))
        try:
            binding.handle = self.handle_of(binding.value, depth)
        finally:
            self._resolving.discard(id(binding))
        binding.resolved = True
        return binding.handle

    def _object(self, node: cst.BaseExpression) -> Handle | None:
        qualified = self.ctx.imports.qualify(node)
        kind = self.api.objects.get(qualified or "")
        return Handle(kind) if kind else None

    def _hinted(self, name: str) -> Handle | None:
        kind = self.api.hinted_kind(name)
        return Handle(kind) if kind else None

    def _applies(self, production: Production, call: cst.Call) -> bool:
        if production.arg is None:
            return True
        found = find_arg(call, production.arg, self.value_of)
        if not isinstance(found, cst.BaseExpression):
            return False
        return literal(found) == production.equals

    def _scopes(self, production: Production, call: cst.Call) -> bool:
        return any(self.tenancy.key_scoped(a) for a in self.args(call, production.scope))

    # -- calls ------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if not self.active:
            return
        groups: dict[str, list[tuple[CallSpec, Handle | None, str]]] = {}
        for spec, handle, method in self.matches(node):
            if spec.role in self.roles:
                groups.setdefault(spec.role, []).append((spec, handle, method))
        for role, matched in groups.items():
            self.check(node, role, matched)

    def matches(self, node: cst.Call) -> Iterator[tuple[CallSpec, Handle | None, str]]:
        func = node.func
        qualified = self.ctx.imports.qualify(func) if dotted(func) else None
        method = func.attr.value if isinstance(func, cst.Attribute) else (dotted(func) or "")
        found = self.api.function_calls(qualified) if qualified else []
        if found:
            for spec in found:
                yield spec, None, method
            return
        if not isinstance(func, cst.Attribute):
            return
        owner = self.handle_of(func.value)
        if owner is not None:
            specs = self.api.calls_on(owner.kind, method)
        else:  # an unknown receiver (a parameter, an attribute set elsewhere): distinctive names only
            specs = self.api.distinctive_calls(method, self.packs)
            if specs and self._chain_scoped(func.value):
                owner = Handle("", scoped=True)
        for spec in specs:
            yield spec, owner, method

    def _chain_scoped(self, node: cst.BaseExpression) -> bool:
        """A scoping call (`.with_tenant(tid)`) anywhere in an unresolved receiver chain."""
        for _ in range(_MAX_DEPTH):
            if isinstance(node, cst.Call):
                if isinstance(node.func, cst.Attribute):
                    name = node.func.attr.value
                    for kind in self.api.kinds.values():
                        for production in kind.methods.get(name, ()):
                            if production.scope and self._scopes(production, node):
                                return True
                node = node.func
            elif isinstance(node, cst.Attribute):
                node = node.value
            elif isinstance(node, cst.Await):
                node = node.expression
            else:
                return False
        return False

    def check(self, call: cst.Call, role: str, matched: list[tuple[CallSpec, Handle | None, str]]) -> None:
        """Judge one call against every entry of `role` it matched (clean if any entry says so)."""
        raise NotImplementedError

    # -- arguments --------------------------------------------------------------------
    def arg(self, call: cst.Call, ref: ArgRef | None):
        return find_arg(call, ref, self.value_of) if ref is not None else None

    def args(self, call: cst.Call, refs) -> list:
        out = []
        for ref in refs:
            found = find_arg(call, ref, self.value_of)
            if found is not None:
                out.append(found)
        return out


def find_arg(call: cst.Call, ref: ArgRef, value_of=None):
    """The expression `ref` designates, following a dict path through literals (and
    local variables bound to them). None when absent; an opaque value stops the path and
    is returned as it is (judged by its name)."""
    node = None
    if ref.keyword is not None:
        for arg in call.args:
            if isinstance(arg.keyword, cst.Name) and arg.keyword.value == ref.keyword:
                node = arg.value
                break
    if node is None and ref.position is not None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if ref.position < len(positional) and not any(
                a.star == "*" for a in call.args[: call.args.index(positional[ref.position])]):
            node = positional[ref.position].value
    if node is None:
        return None
    for step in ref.path:
        container = node
        for _ in range(8):
            if isinstance(container, cst.Name) and value_of is not None:
                bound = value_of(container.value)
                if isinstance(bound, cst.BaseExpression):
                    container = bound
                    continue
            break
        if isinstance(container, cst.Dict):
            item = None
            for el in container.elements:
                if isinstance(el, cst.StarredDictElement):
                    return el.value  # `{**base}`: opaque
                if literal(el.key) == step:
                    item = el.value
            if item is None:
                return None
            node = item
        elif isinstance(container, cst.Call) and dotted(container.func) == "dict":
            item = next((a.value for a in container.args
                         if isinstance(a.keyword, cst.Name) and a.keyword.value == step), None)
            if item is None:
                return None if not any(a.star for a in container.args) else container
            node = item
        else:
            return node
    return node


def literal(node) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal(node.left), literal(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _assignments(stmts, deep: bool) -> Iterator[tuple[str, cst.BaseExpression]]:
    """Name = value at this level (and inside if/try/with blocks when deep)."""
    for stmt in stmts:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            yield target.target.value, small.value
                elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(
                        small.target, cst.Name):
                    yield small.target.value, small.value
        elif deep and isinstance(stmt, (cst.If, cst.Try, cst.With)):
            from tenantlint.names import _child_statements

            yield from _assignments(_child_statements(stmt), deep)


def _self_assignments(func: cst.FunctionDef) -> Iterator[tuple[str, cst.BaseExpression]]:
    """`self.x = value` anywhere among a method's statements."""
    from tenantlint.names import _child_statements

    stack = list(func.body.body) if isinstance(func.body, cst.IndentedBlock) else []
    while stack:
        stmt = stack.pop(0)
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = small.targets if isinstance(small, cst.Assign) else (
                    [small] if isinstance(small, cst.AnnAssign) and small.value is not None else [])
                for target in targets:
                    expr = target.target
                    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and \
                            expr.value.value == "self":
                        yield expr.attr.value, small.value
        elif isinstance(stmt, cst.BaseCompoundStatement) and not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            stack.extend(_child_statements(stmt))
