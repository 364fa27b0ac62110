"""Is an id trusted, and where does an untrusted one come from (SPEC "Indirect tenancy
and trusted ids"), for one value inside one function.

The ORM checks (tenantlint/orm/provenance.py) and the SQL checks (a parent-key
parameter, tenantlint/rules/sql_trust.py) ask the same question of a Python value; what
differs is how each knows a row loaded under scope and an id verified by a scoped query,
so those come in as callbacks. Trusted: a `tenant-sources` value; the primary key, or a
foreign-key column, of a row loaded under scope (`row.id`, `row["app_id"]`); such a row
itself (`Message.conversation == conv`); an id verified before this line (request input
too: the check is what makes it trusted); a cast of one. Otherwise request input is not
(what the client sent, or a route's path, query and body parameters, a class-based
view's URL kwargs). A parameter is trusted when every call in the project passes a
trusted value (`passed`, tenantlint/caller_trust.py; with no caller it is not), and the
row a function is about (`subject`: `self` of a model's method, a signal's `instance`,
tenantlint/handed_values.py) is a row loaded under scope: itself, its key and its
foreign keys are trusted."""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from tenantlint.reach import REQUEST, kind_of, request_parameters

PRIMARY_KEYS = frozenset({"id", "pk"})
CASTS = frozenset({"str", "int", "UUID", "uuid.UUID"})
FROM_REQUEST = "by an id from the request"
FROM_CALLER = "by an id the caller passes"
FROM_RECEIVER = "by the object the method is called on"
_MAX_DEPTH = 5
_COLLECTIONS = frozenset({"list", "set", "tuple", "frozenset", "sorted"})


@dataclass
class IdOrigin:
    """The answers inside one function. `values`: its tenant_sources.FunctionValues (None:
    no function); `resolve(name)`: the value a name holds there (the name itself when
    unknown); `row(node)`: the models (or tables) of the row loaded under scope that an
    expression holds, else None; `verified(name, line)`: was that id verified by a scoped
    query before the line; `keys(model)`: the foreign-key columns of a model or table;
    `route_inputs()`: the function's parameters the client fills (a route or view);
    `column(node)`: the column a row's attribute or item names (default `column_of`; the
    SQL checks also read a tuple row's position through its SELECT list); `passed(name)`:
    is that parameter trusted at every call of the function; `subject(name)`: the models
    of the row the function is about when the name holds it (handed_values.py)."""

    values: object
    resolve: Callable[[ast.Name], ast.AST]
    row: Callable[[ast.AST], frozenset[str] | None]
    verified: Callable[[str, int], bool]
    keys: Callable[[str], frozenset[str]]
    route_inputs: Callable[[], frozenset[str]]
    column: Callable[[ast.AST], str | None] = None
    passed: Callable[[str], bool] = lambda name: False
    subject: Callable[[str], frozenset[str] | None] = lambda name: None

    def __post_init__(self) -> None:
        if self.column is None:
            self.column = column_of

    def trusted(self, node, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH or node is None:
            return False
        values = self.values
        if values is not None:
            if values.request_input(node) is not None:
                # what the client sent, unless a scoped query has just verified it
                return isinstance(node, ast.Name) and self.verified(node.id, node.lineno)
            if values.is_tenant(node):
                return True
        if isinstance(node, ast.Name):
            value = self.resolve(node)
            if value is not node:
                return self.trusted(value, depth + 1)
            return self.verified(node.id, node.lineno) or self.passed(node.id) or self.subject(node.id) is not None
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and \
                call_name(node.func) in CASTS:
            return self.trusted(node.args[0], depth + 1)
        column = self.column(node)
        if column is not None:
            models = self.row(node.value)
            if models is None:
                models = self._subject_of(node.value, depth)
                # a relation of the row in hand (`instance.project`) stands for its key
                return models is not None and (column in PRIMARY_KEYS or any(
                    column in self.keys(m) or f"{column}_id" in self.keys(m) for m in models))
            return column in PRIMARY_KEYS or any(column in self.keys(m) for m in models)
        if isinstance(node, (ast.Call, ast.Await)):
            # The row itself stands for its key (`Message.conversation == conv` in peewee).
            return self.row(node) is not None
        return False

    def each_trusted(self, node, depth: int = 0) -> bool:
        """Is every id of a collection trusted: a literal of trusted ids, or a
        comprehension over rows loaded under scope (`[block.id for block in blocks]`,
        `{link.tool_id for link in agent.tool_links}`), also inside `list()`/`set()`."""
        if depth > _MAX_DEPTH or node is None:
            return False
        if isinstance(node, ast.Name):
            value = self.resolve(node)
            return value is not node and self.each_trusted(value, depth + 1)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return bool(node.elts) and all(not isinstance(e, ast.Starred) and self.trusted(e, depth + 1)
                                           for e in node.elts)
        if isinstance(node, ast.Call) and call_name(node.func) in _COLLECTIONS and len(node.args) == 1 and \
                not node.keywords:
            return self.each_trusted(node.args[0], depth + 1)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and len(node.generators) == 1:
            loop = node.generators[0]
            if not isinstance(loop.target, ast.Name) or loop.is_async:
                return False
            rows = self.row(loop.iter)
            if rows is None:
                return False
            name, row, resolve = loop.target.id, self.row, self.resolve
            inner = replace(self, row=lambda n: rows if isinstance(n, ast.Name) and n.id == name else row(n),
                            resolve=lambda n: n if n.id == name else resolve(n))
            return inner.trusted(node.elt, depth + 1)
        return False

    def _subject_of(self, node, depth: int) -> frozenset[str] | None:
        """The models of the row the function is about that `node` holds (through names)."""
        while isinstance(node, ast.Name) and depth <= _MAX_DEPTH:
            value = self.resolve(node)
            if value is node:
                return self.subject(node.id)
            node, depth = value, depth + 1
        return None

    def source(self, node) -> str | None:
        """Where an untrusted id comes from, for the message: the request (what the client
        sent, or a path, query or body parameter of a route), or the caller."""
        if self.values is not None and self.values.request_input(node) is not None:
            return FROM_REQUEST
        node = self.resolve(node) if isinstance(node, ast.Name) else node
        base, above = node, None
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base, above = base.value, base  # `body.agent_ids[0]`: a field of a request body model
        inputs = self.route_inputs()
        if isinstance(base, ast.Name) and (base.id in inputs or isinstance(above, ast.Attribute) and
                                           f"{base.id}.{above.attr}" in inputs):
            return FROM_REQUEST
        if isinstance(node, ast.Name):
            return FROM_RECEIVER if node.id == "self" else FROM_CALLER
        return None


def column_of(node) -> str | None:
    """The column a row's attribute or item names (`row.app_id`, `row["app_id"]`), lower
    case, else None."""
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
            isinstance(node.slice.value, str):
        return node.slice.value.lower()
    return None


def call_name(func) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""


def project_helper(index: dict, qualified: str) -> tuple[tuple, tuple]:
    """(parameters verified, models of the scoped rows returned) of the project function
    `qualified` names in the catalog's `scoped_helpers` (tenantlint/discover/verifiers.py),
    also when imported through a package that re-exports it, else ((), ())."""
    found = index.get(qualified)
    if found is None and "." in qualified:
        package, short = qualified.rsplit(".", 1)
        under = [v for k, v in index.items() if k.startswith(package + ".") and k.rsplit(".", 1)[-1] == short]
        found = under[0] if len(under) == 1 else None
    return found or ((), ())


def passes(call: ast.Call, name: str, params) -> bool:
    """Does a call pass the local `name` as one of `params` ((position, parameter) pairs),
    by position or keyword?"""
    for position, param in params:
        given = call.args[position] if 0 <= position < len(call.args) and \
            not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]) else \
            next((k.value for k in call.keywords if k.arg == param), None)
        if isinstance(given, ast.Name) and given.id == name:
            return True
    return False


def client_inputs(func, owner: ast.ClassDef | None) -> frozenset[str]:
    """What the client fills in a request entry point: its path, query and body parameters
    (tenantlint.reach), and a class-based view's URL kwargs (`self.kwargs["pk"]`)."""
    inputs = request_parameters(func, owner)
    if owner is not None and kind_of(func, owner) == REQUEST:
        inputs |= {"self.kwargs"}
    return inputs


def method_owners(module: ast.Module | None) -> dict[int, ast.ClassDef]:
    """id(method) -> its module-level class (for tenantlint.reach's view detection)."""
    return {id(fn): cls for cls in (module.body if module is not None else ())
            if isinstance(cls, ast.ClassDef) for fn in cls.body
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))}


def verified_by(statement_blocks: Iterable[list], name: str, before: int | None, resolve,
                filters: Callable[[list], bool], verifier: Callable[[ast.expr], bool]) -> bool:
    """Was the id `name` checked, before line `before`, by a query that `filters(nodes)`
    says is scoped and filters it, which left when nothing was found (a raising fetch,
    or the next statement `if not row` / `if row is None` / `if len(rows) == 0`:
    raise/abort/return), or handed to a call `verifier(value)` says verifies it? The
    query may be built and run in earlier statements, followed through `resolve`."""
    for block in statement_blocks:
        for i, stmt in enumerate(block):
            if before is not None and stmt.lineno >= before:
                break
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr, ast.AnnAssign)) else None
            tested = emptiness_check(stmt)
            if tested is not None and not isinstance(tested, ast.Name) and filters(expand(tested, resolve)):
                return True  # `if session.execute(q).scalar_one_or_none() is None: raise`
            if value is None:
                continue
            if verifier(value):
                return True
            if not filters(expand(value, resolve)):
                continue
            if any(isinstance(n, ast.Attribute) and n.attr in LEAVING for n in ast.walk(value)):
                return True
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if isinstance(target, ast.Name) and i + 1 < len(block) and leaves_unless(block[i + 1], target.id):
                return True
    return False


# Query methods that raise when no row is found.
LEAVING = frozenset({"one", "scalar_one", "first_or_404", "one_or_404", "get_or_404", "get_one"})


def leaves_unless(stmt, name: str, returning: bool = True) -> bool:
    """`if not row` / `if row is None` / `if len(rows) == 0` (or `< 1`, `not len(rows)`):
    then `raise ...` / `abort(...)` / (`returning`) `return ...`."""
    tested = emptiness_check(stmt, returning)
    return isinstance(tested, ast.Name) and tested.id == name


def emptiness_check(stmt, returning: bool = True):
    """The expression an `if` leaves the function on when it holds no row (`if not x`,
    `if x is None`, `if len(x) == 0`, `< 1`, `not len(x)`, each then `raise` / `abort()` /
    (`returning`) `return`), else None."""
    if not (isinstance(stmt, ast.If) and stmt.body):
        return None
    last = stmt.body[-1]
    if not (isinstance(last, ast.Raise) or returning and isinstance(last, ast.Return) or
            isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and
            call_name(last.value.func).rsplit(".", 1)[-1] == "abort"):
        return None
    test = stmt.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _len_of(test.operand) or test.operand
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    op, right = test.ops[0], test.comparators[0]
    if not isinstance(right, ast.Constant) or isinstance(right.value, bool):
        return None
    if isinstance(op, (ast.Is, ast.Eq)) and right.value is None:
        return test.left
    counted = _len_of(test.left)
    if counted is not None and (isinstance(op, ast.Eq) and right.value == 0 or
                                isinstance(op, ast.Lt) and right.value == 1 or
                                isinstance(op, ast.LtE) and right.value == 0):
        return counted
    return None


def _len_of(node):
    """`x` of `len(x)`, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and \
            len(node.args) == 1 and not node.keywords:
        return node.args[0]
    return None


def expand(value, resolve, limit: int = 8) -> list:
    """`value` and, through `resolve` (a name -> the value it was assigned once, or the
    name itself), the expressions it is built from (`rows = result.fetchall()` <-
    `result = session.execute(q)` <- `q = select(...)`)."""
    out, todo, seen = [value], [value], set()
    while todo and len(out) < limit:
        for sub in ast.walk(todo.pop()):
            if isinstance(sub, ast.Name) and sub.id not in seen:
                seen.add(sub.id)
                resolved = resolve(sub)
                if resolved is not sub:
                    out.append(resolved)
                    todo.append(resolved)
    return out


