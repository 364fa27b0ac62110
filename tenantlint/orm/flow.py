"""Follow query values through one function body, path by path, on the flow engine
(`tenantlint.flow`): the values are query States.

Each variable holds the set of query States that can reach it; the engine joins the
sets where paths meet and drops the paths that return or raise. A State is *observed*
when it is consumed (returned, executed, passed on, iterated) or still held when the
function ends; only observed States are judged. So a queryset narrowed on a later line
is judged in its narrowed form, and one narrowed only under `if tenant:` reaches the end
in both forms: the unnarrowed one is the fail-open leak."""
from __future__ import annotations

import ast
from typing import Callable

from tenantlint.flow import ENDS, Env, Walk, extension
from tenantlint.names import dotted
from tenantlint.orm.common import arg_values
from tenantlint.orm.state import State, opaque_forms
from tenantlint.visit import iter_children

EMPTY: frozenset[State] = frozenset()

_PROVIDER = "used inside a scope provider (scope-providers)"
_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


class Flow(Walk[State]):
    def __init__(self, frameworks, observe: Callable[[frozenset[State]], None], escape_with: Callable) -> None:
        super().__init__()
        self.frameworks = frameworks  # objects with root(node, flow) and method(states, call, name, flow)
        self._observe = observe
        self._escape_with = escape_with  # with-item call -> bool (scopes_disabled())
        self.exprs: dict[str, ast.expr] = {}  # last value assigned to a name, for Q/conditions
        self._exprs_block: dict[str, int] = {}  # the statement list a name's value was assigned in
        self.extended: set[str] = set()  # names `+=`/`&=`-ed in another block than their assignment
        self.escaped = False
        self.authorized = False  # the function runs DRF's check_object_permissions() on what it fetched
        self.relevant = None  # (stmt, env) -> bool: a cheap screen, None to analyze everything
        # Queries a method receives from its class: `self.queryset` -> the class-level
        # queryset, `super().get_queryset()` -> what the inherited method returns.
        self.held: dict[str, frozenset[State]] = {}
        # node -> bool: inside a scope provider (a held query or a variable used there is scoped)
        self.in_provider = None
        # Across functions (tenantlint.orm.summaries): `calls(call, flow)` judges a call to a
        # summarized project function (None: not one); `returning(states)` receives what a
        # `return` hands back instead of observing it (a builder's summary); `assume` decides
        # `if p:` / `if p is None:` for parameters assumed given (True) or None (False).
        self.calls = None
        self.returning = None
        # Where a `return` hands a query back inside a tuple (`return query, conditions`):
        # the positions seen (None: a return handed it back bare), for the builder's summary.
        self.returned_at: set[int | None] = set()
        # id(call) -> the position of the query in the tuple a summarized builder returns,
        # so that `query, conditions = cls._preprocess(...)` binds it to `query` alone.
        self.tuple_calls: dict[int, int] = {}
        self.assume: dict[str, bool] = {}
        self.defaults: dict[str, str] = {}  # parameters assumed at their default -> its dotted text
        self.param_defaults: dict[str, str] = {}  # every parameter's default (decides nothing)
        # Parameters with no default that this function hands to a helper whose scoping
        # holds only at that helper's default (`apply_access_predicate(q, actor, access_type)`):
        # credited as if they held it (param -> its text), a condition for this function's callers.
        self.required: frozenset[str] = frozenset()
        self.passed_through: dict[str, str] = {}
        self.kwargs = ""  # a `**kwargs` parameter whose keywords the callers' tenant keyword scopes
        # Rule 6: assignments whose row is checked against the tenant right after (id(stmt) ->
        # the attributes compared); `tenant_names(model)` says which attributes are its tenant's.
        self.guarded: dict[int, frozenset[str]] = {}
        self.tenant_names = None
        self._checked: frozenset[str] = frozenset()

    # -- statements (the engine's control flow, with a screen) ---------------------
    def run(self, body, escaped: bool = False, observe_end: bool = True, env: Env | None = None) -> Env | None:
        """Follow a body (from `env`: parameters holding a query); the variables it leaves
        (None when every path ends early)."""
        self.escaped = escaped
        env = super().run(body, env)
        if env is not None and observe_end:
            for states in env.values():
                self.observe(states)
        return env

    def stmt(self, stmt, env: Env) -> Env | None:
        self.env = env
        if self.relevant is not None and not self.relevant(stmt, env):
            # Nothing here names a tenant model or a variable holding a query.
            return self.screened(stmt, env)
        return super().stmt(stmt, env)

    def screened(self, stmt, env: Env) -> Env | None:
        """A statement not worth analyzing: only remember simple assignments (Q objects
        and conditions used later) and whether the path ends here."""
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.remember(target.id, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            self.remember(stmt.target.id, stmt.value)
        elif isinstance(stmt, (ast.AugAssign, ast.Expr)):
            grown = extension(stmt if isinstance(stmt, ast.AugAssign) else stmt.value)
            if grown is not None:
                self.extend(*grown, stmt if isinstance(stmt, ast.AugAssign) else stmt.value)
        elif isinstance(stmt, ENDS):
            return None
        return env

    def simple(self, stmt, env: Env) -> Env | None:
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Tuple):
            return self._return_tuple(stmt.value)
        checked = self.guarded.get(id(stmt)) if isinstance(stmt, ast.Assign) else None
        if not checked:
            return super().simple(stmt, env)
        self._checked = checked
        try:
            states = self._checked_rows(self.eval(stmt.value))
        finally:
            self._checked = frozenset()
        for target in stmt.targets:
            self.bind(target, states, stmt.value, env)
        return env

    def _return_tuple(self, value: ast.Tuple) -> None:
        """`return query, conditions`: a builder whose tuple holds one query hands that
        query back (the other items are used here); more than one, all are used here."""
        held = [(i, self.eval(item)) for i, item in enumerate(value.elts)]
        queries = [(i, states) for i, states in held if states]
        if len(queries) == 1 and not any(isinstance(item, ast.Starred) for item in value.elts):
            self.returned_at.add(queries[0][0])
            self._hand_back(queries[0][1])
        else:
            for _, states in queries:
                self.observe(states)
        return None

    def enter(self, stmt) -> bool:
        escaped = self.escaped
        for item in stmt.items:
            self.walk(item.context_expr)
            if isinstance(item.context_expr, ast.Call) and self._escape_with(item.context_expr):
                self.escaped = True  # `with scopes_disabled():`
        return escaped

    def leave(self, saved: bool) -> None:
        self.escaped = saved

    def returned(self, states: frozenset[State]) -> None:
        if states:
            self.returned_at.add(None)
        self._hand_back(states)

    def _hand_back(self, states: frozenset[State]) -> None:
        if self.returning is not None:
            self.returning(states)
        else:
            self.observe(states)

    def widen(self, states: frozenset[State]) -> frozenset[State]:
        return opaque_forms(states)

    def remember(self, name: str, value: ast.expr) -> None:
        self.exprs[name] = value
        self._exprs_block[name] = self.where

    def extend(self, target, op: ast.operator, value: ast.expr, where: ast.AST) -> None:
        """`conds += (C == c,)`, `q &= Q(...)`, `conds.append(C == c)` in the block that
        assigned the name: it now stands for the combination. In another block (under an
        `if`, in a loop) only some paths combine: the name keeps its value and is marked
        `extended`."""
        if not isinstance(target, ast.Name) or target.id not in self.exprs:
            return
        if self._exprs_block.get(target.id) == self.where:
            self.exprs[target.id] = ast.copy_location(ast.BinOp(left=self.exprs[target.id], op=op, right=value),
                                                      where)
        else:
            self.extended.add(target.id)

    def bind(self, target, states, value, env: Env) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = states
            self.remember(target.id, value)
            return
        at = self.tuple_calls.get(id(value.value if isinstance(value, ast.Await) else value)) \
            if isinstance(target, (ast.Tuple, ast.List)) else None
        if at is not None and at < len(target.elts) and \
                not any(isinstance(item, ast.Starred) for item in target.elts[:at + 1]):
            # `query, conditions = cls._preprocess(...)`: the builder's query is one item
            for i, item in enumerate(target.elts):
                if i == at:
                    self.bind(item, states, value, env)
                elif isinstance(item, ast.Name):
                    env[item.id] = EMPTY
            return
        self.observe(states)

    # -- expressions --------------------------------------------------------
    def observe(self, states: frozenset[State]) -> None:
        if states:
            self._observe(self._checked_rows(states) if self._checked else states)

    def _checked_rows(self, states: frozenset[State]) -> frozenset[State]:
        """Rows loaded in a guarded assignment: scoped where the check compares the model's tenant."""
        if not self._checked or not states or self.tenant_names is None:
            return states
        return frozenset(s.derive(scoped=s.models) if s.models and all(
            self._checked & self.tenant_names(m) for m in s.models) else s for s in states)

    def trusted(self, node: ast.expr) -> bool:
        """Is this the `**kwargs` the function's callers are judged for (rule 2)?"""
        return bool(self.kwargs) and isinstance(node, ast.Name) and node.id == self.kwargs

    def decide(self, test: ast.expr) -> bool | None:
        """The value of a test on assumed parameters (`actor`, `actor is not None`, `not team`,
        `a and b`), None when it depends on anything else."""
        if not self.assume and not self.defaults:
            return None
        if isinstance(test, ast.Name):
            return self.assume.get(test.id)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.decide(test.operand)
            return None if inner is None else not inner
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and \
                isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
            given = self.assume.get(test.left.id)
            if given is None:
                return None
            if isinstance(test.ops[0], (ast.Is, ast.Eq)):
                return not given
            if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
                return given
            return None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and \
                test.left.id in self.defaults and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
            other = test.comparators[0]
            text = dotted(other) if isinstance(other, (ast.Name, ast.Attribute)) else \
                repr(other.value) if isinstance(other, ast.Constant) else None
            if text is None:
                return None
            same = text == self.defaults[test.left.id]
            return same if isinstance(test.ops[0], ast.Eq) else not same
        if isinstance(test, ast.BoolOp):
            values = [self.decide(v) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in values else (True if all(v is True for v in values) else None)
            return True if True in values else (False if all(v is False for v in values) else None)
        return None

    def eval(self, node: ast.AST) -> frozenset[State]:
        if isinstance(node, ast.Name):
            states = self.env.get(node.id, EMPTY)
            if states and self.in_provider is not None and self.in_provider(node):
                # `paginate(session, query=query)`, a scope provider: what the variable
                # holds on this path is scoped there (and from then on).
                states = frozenset(s.scoped_by(_PROVIDER, node.lineno) for s in states)
                self.env[node.id] = states
            return states
        if isinstance(node, (ast.Attribute, ast.Call)):
            if self.calls is not None and isinstance(node, ast.Call):
                judged = self.calls(node, self)
                if judged is not None:
                    return judged
            if self.held:
                held = self._held(node)
                if held is not None:
                    return held
            for fw in self.frameworks:
                created = fw.root(node, self)
                if created is not None:
                    return created
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = self.eval(node.func.value)
                if receiver:
                    out = EMPTY
                    for fw in self.frameworks:
                        mine = frozenset(s for s in receiver if s.root.framework == fw.name)
                        if mine:
                            out |= fw.method(mine, node, node.func.attr, self)
                    return out
                for value in arg_values(node):
                    self.walk(value)
                return EMPTY
            if isinstance(node, ast.Attribute):
                self.observe(self.eval(node.value))
                return EMPTY
            self.walk(node.func)
            for value in arg_values(node):
                self.walk(value)
            return EMPTY
        if isinstance(node, ast.Await):
            return self.eval(node.value)
        if isinstance(node, ast.IfExp):
            self.walk(node.test)
            decided = self.decide(node.test)
            if decided is not None:
                return self.eval(node.body if decided else node.orelse)
            return self.eval(node.body) | self.eval(node.orelse)
        if isinstance(node, ast.BoolOp):
            out = EMPTY
            for value in node.values:
                out |= self.eval(value)
            return out
        if isinstance(node, ast.Subscript):
            states = self.eval(node.value)
            self.walk(node.slice)
            return states  # qs[:10] is still the same query
        if isinstance(node, _SCOPES):
            saved = dict(self.env)
            if isinstance(node, ast.Lambda):
                # A parameter's name counts as a use of the variable it shadows.
                params = node.args
                for param in (*params.posonlyargs, *params.args, params.vararg, *params.kwonlyargs, params.kwarg):
                    if param is not None:
                        self.observe(self.env.get(param.arg, EMPTY))
            for child in iter_children(node):
                self.walk(child)
            self.env = saved
            return EMPTY
        for child in iter_children(node):
            self.walk(child)
        return EMPTY

    def _held(self, node: ast.expr) -> frozenset[State] | None:
        states = None
        if isinstance(node, ast.Attribute):
            states = self.held.get(dotted(node) or "")
        else:
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and \
                    isinstance(func.value.func, ast.Name) and func.value.func.id == "super":
                states = self.held.get(f"super().{func.attr}()")
                if states is not None:
                    for value in arg_values(node):
                        self.walk(value)
        if states and self.in_provider is not None and self.in_provider(node):
            # Created elsewhere (the class body), used here inside a scope provider.
            states = frozenset(s.scoped_by(_PROVIDER, node.lineno) for s in states)
        return states

    def resolve(self, node: ast.expr, depth: int = 0) -> ast.expr:
        """A name assigned once in the function stands for its value (Q objects, conditions)."""
        while isinstance(node, ast.Name) and node.id in self.exprs and depth < 5:
            node = self.exprs[node.id]
            depth += 1
        return node
