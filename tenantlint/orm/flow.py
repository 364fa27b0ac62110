"""Follow query values through one function body, path by path.

Each variable holds the set of query States that can reach it; `if`/loops/`try` merge
the sets of their paths, and a path that returns or raises leaves nothing behind. A
State is *observed* when it is consumed (returned, executed, passed on, iterated) or
still held when the function ends; only observed States are judged. So a queryset
narrowed on a later line is judged in its narrowed form, and one narrowed only under
`if tenant:` reaches the end in both forms: the unnarrowed one is the fail-open leak."""
from __future__ import annotations

from typing import Callable

import libcst as cst

from tenantlint.orm.state import State

Env = dict[str, frozenset[State]]
EMPTY: frozenset[State] = frozenset()


class Flow:
    def __init__(self, frameworks, observe: Callable[[frozenset[State]], None], escape_with: Callable) -> None:
        self.frameworks = frameworks  # objects with root(node, flow) and method(states, call, name, flow)
        self._observe = observe
        self._escape_with = escape_with  # with-item call -> bool (scopes_disabled())
        self.env: Env = {}
        self.exprs: dict[str, cst.BaseExpression] = {}  # last value assigned to a name, for Q/conditions
        self.escaped = False
        self.authorized = False  # the function runs DRF's check_object_permissions() on what it fetched
        self.relevant = None  # (stmt, env) -> bool: a cheap screen, None to analyze everything

    # -- statements ---------------------------------------------------------
    def run(self, body, escaped: bool = False, observe_end: bool = True) -> None:
        self.escaped = escaped
        env = self.block(body, {})
        if env is not None and observe_end:
            for states in env.values():
                self.observe(states)

    def block(self, stmts, env: Env | None) -> Env | None:
        for stmt in stmts:
            if env is None:
                return None
            env = self.stmt(stmt, env)
        return env

    def stmt(self, stmt, env: Env) -> Env | None:
        self.env = env
        if self.relevant is not None and not self.relevant(stmt, env):
            # Nothing here names a tenant model or a variable holding a query: only
            # remember simple assignments (Q objects and conditions used later).
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            if isinstance(target.target, cst.Name):
                                self.exprs[target.target.value] = small.value
                    elif isinstance(small, (cst.Return, cst.Raise, cst.Break, cst.Continue)):
                        return None
            return env
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                env = self.small(small, env)
                if env is None:
                    return None
                self.env = env
            return env
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return env
        if isinstance(stmt, cst.If):
            self.walk(stmt.test)
            then = self.block(_body(stmt.body), dict(env))
            if stmt.orelse is None:
                other = dict(env)
            elif isinstance(stmt.orelse, cst.If):
                other = self.stmt(stmt.orelse, dict(env))
            else:
                other = self.block(_body(stmt.orelse.body), dict(env))
            return merge(then, other)
        if isinstance(stmt, (cst.For, cst.While)):
            self.walk(stmt.iter if isinstance(stmt, cst.For) else stmt.test)
            looped = merge(env, self.block(_body(stmt.body), dict(env)))
            if stmt.orelse is not None and looped is not None:
                looped = self.block(_body(stmt.orelse.body), looped)
            return looped
        if isinstance(stmt, cst.Try) or type(stmt).__name__ == "TryStar":
            after = self.block(_body(stmt.body), dict(env))
            outcomes = []
            for handler in stmt.handlers:
                outcomes.append(self.block(_body(handler.body), merge(env, after) or dict(env)))
            if stmt.orelse is not None and after is not None:
                after = self.block(_body(stmt.orelse.body), after)
            result = after
            for outcome in outcomes:
                result = merge(result, outcome)
            if stmt.finalbody is not None:
                if result is None:
                    self.block(_body(stmt.finalbody.body), dict(env))
                    return None
                return self.block(_body(stmt.finalbody.body), result)
            return result
        if isinstance(stmt, cst.With):
            escaped = self.escaped
            for item in stmt.items:
                self.walk(item.item)
                if isinstance(item.item, cst.Call) and self._escape_with(item.item):
                    self.escaped = True
            out = self.block(_body(stmt.body), env)
            self.escaped = escaped
            return out
        if isinstance(stmt, cst.Match):
            self.walk(stmt.subject)
            result = dict(env)
            for case in stmt.cases:
                result = merge(result, self.block(_body(case.body), dict(env)))
            return result
        self.walk(stmt)
        return env

    def small(self, small, env: Env) -> Env | None:
        if isinstance(small, cst.Assign):
            states = self.eval(small.value)
            for target in small.targets:
                self.bind(target.target, states, small.value, env)
            return env
        if isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.bind(small.target, self.eval(small.value), small.value, env)
            return env
        if isinstance(small, cst.Return):
            if small.value is not None:
                self.observe(self.eval(small.value))
            return None
        if isinstance(small, cst.Raise):
            self.walk(small)
            return None
        if isinstance(small, (cst.Break, cst.Continue)):
            return None
        if isinstance(small, cst.Expr):
            self.observe(self.eval(small.value))
            return env
        self.walk(small)
        return env

    def bind(self, target, states, value, env: Env) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = states
            self.exprs[target.value] = value
        else:
            self.observe(states)

    # -- expressions --------------------------------------------------------
    def observe(self, states: frozenset[State]) -> None:
        if states:
            self._observe(states)

    def walk(self, node: cst.CSTNode) -> None:
        """Evaluate every expression under a node for its effects; consume the values."""
        if isinstance(node, cst.BaseExpression):
            self.observe(self.eval(node))
            return
        for child in node.children:
            self.walk(child)

    def eval(self, node: cst.CSTNode) -> frozenset[State]:
        if isinstance(node, cst.Name):
            return self.env.get(node.value, EMPTY)
        if isinstance(node, cst.Await):
            return self.eval(node.expression)
        if isinstance(node, cst.IfExp):
            self.walk(node.test)
            return self.eval(node.body) | self.eval(node.orelse)
        if isinstance(node, cst.BooleanOperation):
            return self.eval(node.left) | self.eval(node.right)
        if isinstance(node, (cst.Attribute, cst.Call)):
            for fw in self.frameworks:
                created = fw.root(node, self)
                if created is not None:
                    return created
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                receiver = self.eval(node.func.value)
                if receiver:
                    out = EMPTY
                    for fw in self.frameworks:
                        mine = frozenset(s for s in receiver if s.root.framework == fw.name)
                        if mine:
                            out |= fw.method(mine, node, node.func.attr.value, self)
                    return out
                for arg in node.args:
                    self.walk(arg.value)
                return EMPTY
            if isinstance(node, cst.Attribute):
                self.observe(self.eval(node.value))
                return EMPTY
            self.walk(node.func)
            for arg in node.args:
                self.walk(arg.value)
            return EMPTY
        if isinstance(node, cst.Subscript):
            states = self.eval(node.value)
            for element in node.slice:
                self.walk(element)
            return states  # qs[:10] is still the same query
        if isinstance(node, (cst.Lambda, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            saved = dict(self.env)
            for child in node.children:
                self.walk(child)
            self.env = saved
            return EMPTY
        for child in node.children:
            self.walk(child)
        return EMPTY

    def resolve(self, node: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression:
        """A name assigned once in the function stands for its value (Q objects, conditions)."""
        while isinstance(node, cst.Name) and node.value in self.exprs and depth < 5:
            node = self.exprs[node.value]
            depth += 1
        return node


def _body(suite) -> list:
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    if isinstance(suite, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=suite.body)]
    return list(getattr(suite, "body", ()))


def merge(a: Env | None, b: Env | None) -> Env | None:
    if a is None:
        return b
    if b is None:
        return a
    out = dict(a)
    for name, states in b.items():
        out[name] = out.get(name, EMPTY) | states
    return out
