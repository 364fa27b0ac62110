"""The shared half of the catalog-driven checkers: which names are bound to what, which
handle (a redis client, a Pinecone index, an S3 client...) an expression evaluates to, and
which catalog entries a call matches.

Receivers are resolved from imports (`ImportMap`), module-level and function-local
assignments, `with ... as name`, `self.x = ...` anywhere in the class, and attribute and
method chains through the catalog's kinds (`wv.collections.get("Docs").query`). A name
imported from another module of the project (`from app.clients import kb_index`, or
`clients.kb_index`) is the handle that module binds it to, as the discovery pass recorded
it (`module_handles`, `TenantCatalog.modules`). When a
receiver is unknown, only methods a pack declares `distinctive` match, and only in a file
that imports that pack's library; or a receiver whose name carries a kind's hint
(`engine.connect()`). Plain stdlib `ast` nodes, nothing beyond their positions: this is cheap."""
from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from typing import Iterator

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
        self.active = ctx.imports is not None and (
            self.api.worth_visiting(ctx.source, self.packs, self.roles) or _names_handle(ctx.catalog, ctx.source))
        self.module_scope: dict[str, Binding] = {}
        self.scopes: list[dict[str, Binding]] = [self.module_scope]
        self.classes: list[dict[str, Binding]] = []
        self.tenancy = Tenancy(ctx.settings.tenant_columns, ctx.settings.global_key_prefixes,
                               self.value_of, ctx.code_for)
        self._resolving: set[int] = set()
        # (id of the block's node, span of its `else` body or None), outermost first
        self.blocks: list[tuple[int, tuple | None]] = []
        self._here: tuple[int, int] = (0, 0)
        self._memo: tuple | None = None

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """The same test as `active`, before the parse: a file that imports none of this
        family's libraries (and names none of the team's own wrappers) has nothing to find."""
        api = catalog_for(settings)
        return api.worth_visiting(source, api.imported_packs(source), cls.roles) or _names_handle(catalog, source)

    def get_visitors(self):
        """A file that imports none of the catalog's libraries costs nothing: no visitors."""
        return super().get_visitors() if self.active else {}

    # -- bindings ---------------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        if self.active:
            for target, value in _assignments(node.body, deep=True):
                self.module_scope[target] = Binding(value)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        attrs: dict[str, Binding] = {}
        if self.active:
            for target, value in _assignments(node.body, deep=False):
                attrs[target] = Binding(value)
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for target, value in _self_assignments(stmt):
                        attrs.setdefault(target, Binding(value))
        self.classes.append(attrs)

    def leave_ClassDef(self, original_node: ast.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        scope: dict[str, Binding] = {}
        params = node.args
        for param in (*params.posonlyargs, *params.args, *params.kwonlyargs):
            scope[param.arg] = Binding(_UNKNOWN, self._annotated(param), resolved=True)
        for star in (params.vararg, params.kwarg):
            if star is not None:
                scope[star.arg] = Binding(_UNKNOWN, resolved=True)
        self.scopes.append(scope)

    def _annotated(self, param: ast.arg) -> Handle | None:
        """`def f(r: redis.Redis)`: a parameter annotated with a catalog class is that handle."""
        if not self.active or param.annotation is None:
            return None
        annotation = param.annotation
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value.strip(), mode="eval").body
            except Exception:  # noqa: BLE001 - not an expression
                return None
        qualified = self.ctx.imports.qualify(annotation) if dotted(annotation) else None
        for production in self.api.constructor(qualified) if qualified else ():
            if production.arg is None:
                return Handle(production.returns)
        return None

    def leave_FunctionDef(self, original_node: ast.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.scopes.append({p.arg: Binding(_UNKNOWN, resolved=True) for p in node.args.args})

    def leave_Lambda(self, original_node: ast.Lambda) -> None:
        self.scopes.pop()

    def leave_Assign(self, original_node: ast.Assign) -> None:
        self._at(original_node)
        for target in original_node.targets:
            self._bind(target, original_node.value)

    def leave_AnnAssign(self, original_node: ast.AnnAssign) -> None:
        if original_node.value is not None:
            self._at(original_node)
            self._bind(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: ast.AugAssign) -> None:
        target = original_node.target
        if isinstance(target, ast.Name) and self.active and len(self.scopes) > 1:
            previous = self.scopes[-1].get(target.id)
            if previous is not None and isinstance(previous.value, ast.expr):
                # `key += x`: both parts count (a tenant in either is a tenant in the key)
                combined = ast.BinOp(previous.value, ast.Add(), original_node.value)
                self.scopes[-1][target.id] = Binding(combined)

    # Conditional blocks: a name rebound inside one keeps its earlier value as an
    # alternative, since the block may not run. `ast` has no node for an `else:` block
    # (an `if`, `for`, `while` or `try` keeps it as a plain `orelse` list), so each block
    # remembers the span of its `else` body, and the blocks in force at a binding or a use
    # are computed from the position of the node being visited (`_at`): inside that span,
    # the `else` counts as one more block, as its own node would.
    def visit_If(self, node) -> None:
        self._push(node, _else_span(node))

    def leave_If(self, original_node) -> None:
        self.blocks.pop()
        self._memo = None

    def _push(self, node, else_span=None) -> None:
        self.blocks.append((id(node), else_span))
        self._memo = None

    def _push_plain(self, node) -> None:
        self._push(node)

    def _push_orelse(self, node) -> None:
        self._push(node, _span(node.orelse))

    # A handler and a match case are alternatives to their siblings; the `else` of a loop or
    # a `try` to its body.
    visit_While = visit_Try = visit_TryStar = _push_orelse
    visit_Match = visit_ExceptHandler = visit_match_case = _push_plain
    leave_While = leave_Try = leave_TryStar = leave_Match = leave_For = leave_If
    leave_ExceptHandler = leave_match_case = leave_If

    def _at(self, node: ast.AST) -> None:
        """The walk is at `node` (a statement or expression with a position)."""
        here = (node.lineno, node.col_offset)
        if here != self._here:
            self._here = here
            self._memo = None

    def current_blocks(self) -> tuple:
        """The conditional blocks in force where the walk is (see `_at`)."""
        memo = self._memo
        if memo is None:
            out = []
            here = self._here
            for ident, span in self.blocks:
                out.append(ident)
                if span is not None and span[0] <= here <= span[1]:
                    out.append(-ident)  # its `else` body
            memo = self._memo = tuple(out)
        return memo

    def visit_For(self, node: ast.For) -> None:
        self._push(node, _span(node.orelse))
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
            binding = Binding(value, blocks=self.current_blocks())
            previous = scope.get(target.id)
            if previous is not None and previous.blocks != binding.blocks and len(self.scopes) > 1:
                # Bound on another path (a branch, a loop): both values may reach a use.
                binding.others = (*previous.others, previous.value)
            if eager and len(self.scopes) > 1 and isinstance(value, ast.expr):
                binding.handle, binding.resolved = self.handle_of(value), True
            scope[target.id] = binding
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                if isinstance(el, ast.Starred):
                    el = el.value
                if isinstance(el, ast.Name):
                    scope[el.id] = Binding(_UNKNOWN, resolved=True)

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
        if binding.others:
            here = self.current_blocks()
            if here[:len(binding.blocks)] != binding.blocks:
                # Used outside the block that made the last binding: earlier values may reach.
                values = (*binding.others, binding.value)
                return None if any(v is _UNKNOWN for v in values) else Alternatives(values)
        return binding.value

    # -- handles ----------------------------------------------------------------------
    def handle_of(self, node: ast.expr, depth: int = 0) -> Handle | None:
        if depth > _MAX_DEPTH:
            return None
        step = depth + 1
        if isinstance(node, ast.Await):
            return self.handle_of(node.value, step)
        if isinstance(node, ast.Name):
            binding = self.lookup(node.id)
            if binding is not None:
                return self._binding_handle(binding, step) or self._hinted(node.id)
            return self._object(node) or self._hinted(node.id)
        if isinstance(node, ast.Attribute):
            attr = node.attr
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and self.classes:
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
        if isinstance(node, ast.Call):
            func = node.func
            qualified = self.ctx.imports.qualify(func) if dotted(func) else None
            if qualified:
                for production in self.api.constructor(qualified):
                    if self._applies(production, node):
                        return Handle(production.returns, self._scopes(production, node))
            if isinstance(func, ast.Attribute):
                owner = self.handle_of(func.value, step)
                if owner is not None:
                    kind = self.api.kinds.get(owner.kind)
                    if kind is None:
                        return None
                    for production in kind.methods.get(func.attr, ()):
                        if self._applies(production, node):
                            return Handle(production.returns, owner.scoped or self._scopes(production, node))
                    if kind.chain:
                        return owner
            return None
        if isinstance(node, ast.Subscript):
            owner = self.handle_of(node.value, step)
            kind = self.api.kinds.get(owner.kind) if owner else None
            if kind is not None and kind.item:
                return Handle(kind.item, owner.scoped)
            return None
        return None

    def _binding_handle(self, binding: Binding, depth: int) -> Handle | None:
        if binding.resolved:
            return binding.handle
        if not isinstance(binding.value, ast.expr) or id(binding) in self._resolving:
            return None
        self._resolving.add(id(binding))
        try:
            binding.handle = self.handle_of(binding.value, depth)
        finally:
            self._resolving.discard(id(binding))
        binding.resolved = True
        return binding.handle

    def _object(self, node: ast.expr) -> Handle | None:
        qualified = self.ctx.imports.qualify(node)
        kind = self.api.objects.get(qualified or "")
        if kind:
            return Handle(kind)
        return self._imported_handle(node, qualified)

    def _imported_handle(self, node: ast.expr, qualified: str | None) -> Handle | None:
        """A name imported from a module of the project that binds it to a handle."""
        index = getattr(self.ctx.catalog, "modules", None)
        if index is None or not index.handles or not qualified:
            return None
        if (dotted(node) or "").partition(".")[0] not in self.ctx.imports.aliases:
            return None  # this module's own names are its bindings
        found = index.handle(qualified)
        return Handle(found[0], found[1]) if found is not None else None

    def _hinted(self, name: str) -> Handle | None:
        kind = self.api.hinted_kind(name)
        return Handle(kind) if kind else None

    def _applies(self, production: Production, call: ast.Call) -> bool:
        if production.arg is None:
            return True
        found = find_arg(call, production.arg, self.value_of)
        if not isinstance(found, ast.expr):
            return False
        return literal(found) == production.equals

    def _scopes(self, production: Production, call: ast.Call) -> bool:
        return any(self.tenancy.key_scoped(a) for a in self.args(call, production.scope))

    # -- calls ------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        if not self.active:
            return
        self._at(node)
        groups: dict[str, list[tuple[CallSpec, Handle | None, str]]] = {}
        for spec, handle, method in self.matches(node):
            if spec.role in self.roles:
                groups.setdefault(spec.role, []).append((spec, handle, method))
        for role, matched in groups.items():
            self.check(node, role, matched)

    def matches(self, node: ast.Call) -> Iterator[tuple[CallSpec, Handle | None, str]]:
        func = node.func
        qualified = self.ctx.imports.qualify(func) if dotted(func) else None
        method = func.attr if isinstance(func, ast.Attribute) else (dotted(func) or "")
        found = self.api.function_calls(qualified) if qualified else []
        if found:
            for spec in found:
                yield spec, None, method
            return
        if not isinstance(func, ast.Attribute):
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

    # -- arguments --------------------------------------------------------------------
    def arg(self, call: ast.Call, ref: ArgRef | None):
        return find_arg(call, ref, self.value_of) if ref is not None else None

    def args(self, call: ast.Call, refs) -> list:
        out = []
        for ref in refs:
            found = find_arg(call, ref, self.value_of)
            if found is not None:
                out.append(found)
        return out


def _names_handle(catalog, source: str) -> bool:
    """The screen for imported handles: the file names one the catalog knows."""
    index = getattr(catalog, "modules", None)
    return index is not None and bool(index.handles) and index.mentions(source, "handles")


class _ModuleResolver(ApiChecker):
    roles = ()


def module_handles(ctx) -> list[tuple[str, str, bool]]:
    """(name, kind, scoped) of the module-level names of a file that are bound to a handle
    of the API catalog, as this walker infers them within the file (for the discovery
    pass: other modules that import the name get the same handle)."""
    resolver = _ModuleResolver(ctx)
    resolver.active = ctx.imports is not None
    if not resolver.active:
        return []
    resolver.visit_Module(ctx.module)
    out = []
    for name, binding in resolver.module_scope.items():
        handle = resolver._binding_handle(binding, 0)
        if handle is not None and handle.kind:
            out.append((name, handle.kind, handle.scoped))
    return out


def find_arg(call: ast.Call, ref: ArgRef, value_of=None):
    """The expression `ref` designates, following a dict path through literals (and
    local variables bound to them). None when absent; an opaque value stops the path and
    is returned as it is (judged by its name)."""
    node = None
    if ref.keyword is not None:
        for kw in call.keywords:
            if kw.arg == ref.keyword:
                node = kw.value
                break
    if node is None and ref.position is not None:
        seen = 0
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                break  # after a `*args`, positions are unknown
            if seen == ref.position:
                node = arg
                break
            seen += 1
    if node is None:
        return None
    for step in ref.path:
        container = node
        for _ in range(8):
            if isinstance(container, ast.Name) and value_of is not None:
                bound = value_of(container.id)
                if isinstance(bound, ast.expr):
                    container = bound
                    continue
            break
        if isinstance(container, ast.Dict):
            item = None
            for key, value in zip(container.keys, container.values):
                if key is None:
                    return value  # `{**base}`: opaque
                if literal(key) == step:
                    item = value
            if item is None:
                return None
            node = item
        elif isinstance(container, ast.Call) and dotted(container.func) == "dict":
            item = next((kw.value for kw in container.keywords if kw.arg == step), None)
            if item is None:
                starred = any(kw.arg is None for kw in container.keywords) or any(
                    isinstance(a, ast.Starred) for a in container.args)
                return container if starred else None
            node = item
        else:
            return node
    return node


def literal(node) -> str | None:
    """A string literal's value (implicit concatenation included); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _span(body: list) -> tuple | None:
    """((line, col), (end line, end col)) of a statement list, None when empty."""
    if not body:
        return None
    first, last = body[0], body[-1]
    return (first.lineno, first.col_offset), (last.end_lineno, last.end_col_offset)


def _else_span(node: ast.If) -> tuple | None:
    """The span of an `if`'s `else:` body; None without one or for an `elif` (its If is
    visited as a block of its own)."""
    orelse = node.orelse
    if len(orelse) == 1 and isinstance(orelse[0], ast.If) and orelse[0].col_offset == node.col_offset \
            and orelse[0].lineno > node.lineno:
        return None  # `elif`: at the column of its `if` (an `else:` body is indented deeper)
    return _span(orelse)


def _child_statements(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements nested in a compound statement: body, else, finally, handlers, cases
    (this order: a later binding of a module or class name wins); [] for a simple one."""
    out: list[ast.stmt] = list(getattr(stmt, "body", ()))
    out.extend(getattr(stmt, "orelse", ()) or ())
    out.extend(getattr(stmt, "finalbody", ()) or ())
    for handler in getattr(stmt, "handlers", ()) or ():
        out.extend(handler.body)
    for case in getattr(stmt, "cases", ()) or ():
        out.extend(case.body)
    return out


def _assignments(stmts, deep: bool) -> Iterator[tuple[str, ast.expr]]:
    """Name = value at this level (and inside if/try/with blocks when deep)."""
    for stmt in stmts:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None and isinstance(stmt.target, ast.Name):
                yield stmt.target.id, stmt.value
        elif deep and isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith)):
            yield from _assignments(_child_statements(stmt), deep)


def _self_assignments(func: ast.FunctionDef) -> Iterator[tuple[str, ast.expr]]:
    """`self.x = value` anywhere among a method's statements."""
    queue = deque(func.body)
    while queue:
        stmt = queue.popleft()
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target] if stmt.value is not None else []
        else:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                queue.extend(_child_statements(stmt))
            continue
        for expr in targets:
            if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
                yield expr.attr, stmt.value
