"""Follow one body statement by statement, path by path.

The environment maps each name to the set of abstract values that can reach it (`Env`);
the family walking the body decides what a value is: an ORM query State, a piece of SQL
text, a store handle. A path that returns, raises, breaks or continues leaves nothing
behind (`None` is "no path reaches here"); where paths meet (after an `if`, a loop, a
`try`, a `match`) their environments are joined, name by name, as the union of the
values. A name whose values grow past `cap` on a join is given up: the family turns
those values into an opaque one (`widen`), which the rules judge as unverifiable (TL002),
never as clean.

The control flow is the engine's; the family answers a small protocol:

- `eval(node)`: the values an expression evaluates to (evaluating its parts, and
  observing what they consume, on the way);
- `observe(values)`: the values reach a use (executed, returned, passed on);
- `bind(target, values, value, env)`: an assignment;
- `extend(target, op, value, where)`: a name grown in place: `x += v`, `x &= v`, and
  `x.append(v)` / `x.extend(v)` as `x += [v]` / `x += v` (`extension`);
- `decide(test)`: a test whose outcome is known (True/False), else None;
- `returned(values)`: what a `return` hands back (default: observed);
- `enter(stmt)` / `leave(saved)`: around a `with` body;
- `widen(values)`: the opaque form of values given up at the cap.

How each construct is followed (one pass, no fixpoint):

- `if`: both branches from the same environment, joined; a decided test runs one;
- loops: the body once from the environment before the loop, joined with that
  environment (zero turns); a loop's `else` runs after;
- `try`: the body; each handler from the join of the environments before and after the
  body (the exception may come at either end); `else` after the body; `finally` after
  the join of all of them (and, when every path ended, for its effects only);
- `match`: each case from the environment before it, joined with it (no case matched)
  unless the last case is `case _:` or a bare capture;
- `with`: the body, between `enter` and `leave`;
- nested functions and classes are not entered (they are bodies of their own)."""
from __future__ import annotations

import ast
from typing import Generic, TypeVar

from tenantlint.visit import iter_children

V = TypeVar("V")
Env = dict  # name -> frozenset of values; None for "no path reaches here"

TRIES = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
WITHS = (ast.With, ast.AsyncWith)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
ENDS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
# Bounds the values a name may hold after a join: past it, `widen` (the paths are too
# many to follow one by one: the name's value is opaque).
MAX_VALUES = 64


def extension(node: ast.AST) -> tuple[ast.expr, ast.operator, ast.expr] | None:
    """(target, operator, addition) when a statement or call grows a name in place:
    `x += v` (any operator), `x.append(v)` as `x += [v]`, `x.extend(v)` as `x += v`."""
    if isinstance(node, ast.AugAssign):
        return node.target, node.op, node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr in ("append", "extend") and len(node.args) == 1 and not node.keywords \
            and not isinstance(node.args[0], ast.Starred):
        item = node.args[0]
        if node.func.attr == "append":
            item = ast.copy_location(ast.List(elts=[item], ctx=ast.Load()), item)
        return node.func.value, ast.Add(), item
    return None


class Walk(Generic[V]):
    """The engine: subclass it with a value type and the protocol above."""

    cap = MAX_VALUES

    def __init__(self) -> None:
        self.env: Env = {}
        self.where = 0  # id() of the statement list being walked (a block, not a path)

    # -- the protocol (families override) -------------------------------------------
    def eval(self, node: ast.AST) -> frozenset:
        for child in iter_children(node):
            self.walk(child)
        return frozenset()

    def observe(self, values: frozenset) -> None:
        """The values reach a use."""

    def bind(self, target: ast.expr, values: frozenset, value: ast.expr, env: Env) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = values
        else:
            self.observe(values)  # stored into something we do not follow

    def extend(self, target: ast.expr, op: ast.operator, value: ast.expr, where: ast.AST) -> None:
        """A name grown in place (see `extension`); its values are still evaluated after."""

    def decide(self, test: ast.expr) -> bool | None:
        return None

    def returned(self, values: frozenset) -> None:
        self.observe(values)

    def enter(self, stmt) -> object:
        """Before a `with` body: evaluate the items; what `leave` restores."""
        for item in stmt.items:
            self.walk(item.context_expr)
        return None

    def leave(self, saved: object) -> None:
        """After a `with` body."""

    def widen(self, values: frozenset) -> frozenset:
        """The opaque form of values given up at the cap (the family's)."""
        return values

    # -- statements ----------------------------------------------------------------
    def run(self, body, env: Env | None = None) -> Env | None:
        """Follow a body from `env`; the environment it leaves (None when every path ends)."""
        return self.block(body, dict(env or {}))

    def block(self, stmts, env: Env | None) -> Env | None:
        outer, self.where = self.where, id(stmts)
        try:
            for stmt in stmts:
                if env is None:
                    return None
                env = self.stmt(stmt, env)
            return env
        finally:
            self.where = outer

    def stmt(self, stmt, env: Env) -> Env | None:
        self.env = env
        if isinstance(stmt, DEFS):
            return env
        if isinstance(stmt, ast.If):
            self.walk(stmt.test)
            decided = self.decide(stmt.test)
            if decided is not None:
                return self.block(stmt.body if decided else stmt.orelse, env)
            then = self.block(stmt.body, dict(env))
            # An `elif` is the If alone in `orelse`: running the block runs that If.
            other = self.block(stmt.orelse, dict(env)) if stmt.orelse else dict(env)
            return self.join(then, other)
        if isinstance(stmt, LOOPS):
            self.walk(stmt.test if isinstance(stmt, ast.While) else stmt.iter)
            looped = self.join(env, self.block(stmt.body, dict(env)))
            if stmt.orelse and looped is not None:
                looped = self.block(stmt.orelse, looped)
            return looped
        if isinstance(stmt, TRIES):
            return self.try_(stmt, env)
        if isinstance(stmt, WITHS):
            saved = self.enter(stmt)
            try:
                return self.block(stmt.body, env)
            finally:
                self.leave(saved)
        if isinstance(stmt, ast.Match):
            self.walk(stmt.subject)
            # With a last `case _:` (or a bare capture, unguarded) some case always runs:
            # there is no path on which none matched.
            result = None if stmt.cases and _irrefutable(stmt.cases[-1]) else dict(env)
            for case in stmt.cases:
                result = self.join(result, self.block(case.body, dict(env)))
            return result
        return self.simple(stmt, env)

    def try_(self, stmt, env: Env) -> Env | None:
        after = self.block(stmt.body, dict(env))
        outcomes = [self.block(handler.body, self.join(env, after) or dict(env)) for handler in stmt.handlers]
        if stmt.orelse and after is not None:
            after = self.block(stmt.orelse, after)
        result = after
        for outcome in outcomes:
            result = self.join(result, outcome)
        if stmt.finalbody:
            if result is None:
                self.block(stmt.finalbody, dict(env))
                return None
            return self.block(stmt.finalbody, result)
        return result

    def simple(self, stmt, env: Env) -> Env | None:
        """A statement that is not compound: bindings, `return`, growth, uses."""
        if isinstance(stmt, ast.Assign):
            values = self.eval(stmt.value)
            for target in stmt.targets:
                self.bind(target, values, stmt.value, env)
            return env
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.bind(stmt.target, self.eval(stmt.value), stmt.value, env)
            return env
        if isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.returned(self.eval(stmt.value))
            return None
        if isinstance(stmt, ast.AugAssign):
            self.extend(stmt.target, stmt.op, stmt.value, stmt)
            self.walk(stmt)
            return env
        if isinstance(stmt, ast.Raise):
            self.walk(stmt)
            return None
        if isinstance(stmt, (ast.Break, ast.Continue)):
            return None
        if isinstance(stmt, ast.Expr):
            grown = extension(stmt.value)
            if grown is not None:
                self.extend(*grown, stmt.value)
            self.observe(self.eval(stmt.value))
            return env
        self.walk(stmt)
        return env

    # -- expressions ---------------------------------------------------------------
    def walk(self, node: ast.AST) -> None:
        """Evaluate every expression under a node for its effects; observe the values."""
        if isinstance(node, ast.expr):
            self.observe(self.eval(node))
            return
        for child in iter_children(node):
            self.walk(child)

    # -- paths meeting -------------------------------------------------------------
    def join(self, a: Env | None, b: Env | None) -> Env | None:
        """Where two paths meet: each name holds the values of both (None: no path)."""
        if a is None:
            return b
        if b is None:
            return a
        out = dict(a)
        for name, values in b.items():
            mine = out.get(name)
            if mine is None:
                out[name] = values
            elif mine is not values:
                both = mine | values
                out[name] = self.widen(both) if len(both) > self.cap else both
        return out


def _irrefutable(case: ast.match_case) -> bool:
    """`case _:` / `case name:` without a guard: matches every subject."""
    return case.guard is None and isinstance(case.pattern, ast.MatchAs) and case.pattern.pattern is None
