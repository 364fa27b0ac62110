"""Project helpers that verify an id against the tenant, found in the catalog pass.

`async def validate_agent_exists_async(session, agent_id, actor)` in one module runs
`select(Agent.id).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)`
and raises when nothing comes back; `validate_agent_exists_async(session, agent_id, actor)`
in another module has then verified `agent_id` (SPEC "Indirect tenancy and trusted ids":
an id a scoped query just verified), and tenantlint.orm.provenance trusts it afterwards.

Read from one file's tree, per module-level function and method of a module-level class
(`self._get_resource(id, tenant_id)`), before the tenant models are known:
a statement (followed through names the function assigns once) that compares a parameter
with `==` (or passes it as `id=`/`pk=`) in the same expression as a tenant column
condition (`X.organization_id == ...`, `organization_id=`/`organization=`), and leaves when
nothing is found: a query method that raises (`.one()`, `.scalar_one()`, Django `.get()`,
`get_object_or_404`), or the next statement `if not row` / `if row is None` /
`if len(rows) == 0` ending in `raise` or `abort()` (a `return` hands the caller a value it
may ignore: no verification). A tenant condition under `or` verifies nothing."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.names import dotted
from tenantlint.orm.provenance import LEAVING, blocks, emptiness_check, expand, leaves_unless, own_nodes

# Query methods and shortcuts that raise when no row is found.
RAISING = LEAVING | {"get_object_or_404", "aget_object_or_404"}
_DJANGO_GET = frozenset({"get", "aget"})  # `Model.objects.get(...)` raises DoesNotExist
# Methods that return rows (or a row, or None) rather than a query.
_FETCH = RAISING | {"first", "afirst", "one_or_none", "scalar_one_or_none", "scalar", "all", "get", "aget",
                    "first_or_none", "get_or_none", "last", "alast"}
_ID_KEYWORDS = frozenset({"id", "pk", "identifier", "id__exact", "pk__exact"})
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class VerifierFact:
    path: str
    module: str
    # (function, ((position, parameter), ...), models): the parameters each function
    # verifies, and the models of the rows it returns loaded under scope (() if not)
    functions: tuple[tuple[str, tuple[tuple[int, str], ...], tuple[str, ...]], ...]


class Verifiers:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    gaps = False

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        """A file that names a tenant column and raises or runs a raising query."""
        return any(c.encode() in data for c in settings.tenant_columns) and \
            (b"raise" in data or b"one(" in data or b"404" in data or b".get(" in data)

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[VerifierFact]:
        columns = frozenset(c.lower() for c in settings.tenant_columns)
        names = columns | frozenset(c[:-3] for c in columns if c.endswith("_id") and len(c) > 3)
        found = []
        for func, name, bound in _functions(tree):
            verified = _verified_parameters(func, columns, names, bound)
            rows = _scoped_rows(func, columns, names)
            if verified or rows:
                found.append((name, verified, rows))
        if found:
            yield VerifierFact(path, module, tuple(found))


def verifier_index(facts: Iterable[VerifierFact]) -> dict[str, tuple[tuple[tuple[int, str], ...], tuple[str, ...]]]:
    """Qualified function -> (the (position, parameter) pairs it verifies, the models of
    the scoped rows it returns)."""
    return {f"{fact.module}.{name}" if fact.module else name: (verified, rows)
            for fact in facts for name, verified, rows in fact.functions}


def _scoped_rows(func, columns: frozenset[str], names: frozenset[str]) -> tuple[str, ...]:
    """The models of the rows a function returns when every `return` is a fetch from a
    query with a tenant condition (`return session.execute(select(A).where(A.id == x,
    A.organization_id == org)).scalar_one_or_none()`, `return A.objects.get(pk=pk,
    organization=org)`), else ()."""
    returns = [n for n in own_nodes(func) if isinstance(n, ast.Return)]
    if not returns:
        return ()
    once: dict[str, ast.expr] | None = None

    def resolve(name: ast.Name) -> ast.expr:
        nonlocal once
        if once is None:
            once = _assigned_once(func)
        return once.get(name.id, name)

    models: set[str] = set()
    for ret in returns:
        value = ret.value
        for _ in range(3):  # `return agent`, `agent = ....scalar_one_or_none()`
            if isinstance(value, ast.Name):
                value = resolve(value)
        if value is None or not _fetches(value):
            return ()
        nodes = expand(value, resolve)
        found = {m for node in nodes for m in _queried_models(node)}
        if not found or not any(_tenant_condition(node, columns, names) for node in nodes):
            return ()
        models |= found
    return tuple(sorted(models))


def _fetches(value) -> bool:
    """Does the expression end in a method that returns rows (not a query)?"""
    while isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    last = (dotted(value.func) or "").rsplit(".", 1)[-1] if not isinstance(value.func, ast.Attribute) \
        else value.func.attr
    return last in _FETCH


def _queried_models(node) -> set[str]:
    """The models a query names: `select(A)`, `select(A.id)`, `session.query(A)`,
    `A.objects...`, `get_object_or_404(A, ...)` (class names: capitalized)."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and sub.args:
            last = (dotted(sub.func) or "").rsplit(".", 1)[-1]
            if last in ("select", "query", "get_object_or_404", "aget_object_or_404"):
                first = sub.args[0]
                if isinstance(first, ast.Attribute):
                    first = first.value  # `select(A.id)`
                if isinstance(first, ast.Name) and first.id[:1].isupper():
                    out.add(first.id)
        elif isinstance(sub, ast.Attribute) and sub.attr == "objects" and isinstance(sub.value, ast.Name):
            out.add(sub.value.id)
    return out


def _functions(tree: ast.Module):
    """(definition, name, bound) of module-level functions and methods of module-level
    classes (`Repo.get`; bound: called through an instance or the class, the first
    parameter is not passed)."""
    for node in tree.body:
        if isinstance(node, _FUNCS):
            yield node, node.name, False
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, _FUNCS):
                    static = any((dotted(d) or "") == "staticmethod" for d in stmt.decorator_list)
                    yield stmt, f"{node.name}.{stmt.name}", not static


def _verified_parameters(func, columns: frozenset[str], names: frozenset[str],
                         bound: bool = False) -> tuple[tuple[int, str], ...]:
    positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)][1 if bound else 0:]
    params = set(positional) | {a.arg for a in func.args.kwonlyargs}
    once: dict[str, ast.expr] | None = None
    verified: set[str] = set()

    def resolve(name: ast.Name) -> ast.expr:
        nonlocal once
        if once is None:  # only for a function with a raising check: one walk of its body
            once = _assigned_once(func)
        return once.get(name.id, name)

    for block in blocks(func):
        for i, stmt in enumerate(block):
            tested = emptiness_check(stmt, returning=False)
            if tested is not None and not isinstance(tested, ast.Name):
                # `if (await session.execute(q)).scalar_one_or_none() is None: raise ...`
                verified |= _checked_ids(expand(tested, resolve), params, columns, names)
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr, ast.AnnAssign, ast.Return)) else None
            if value is None:
                continue
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if _raises_when_empty(value) or isinstance(target, ast.Name) and i + 1 < len(block) and \
                    leaves_unless(block[i + 1], target.id, returning=False):
                verified |= _checked_ids(expand(value, resolve), params, columns, names)
    return tuple((positional.index(p) if p in positional else -1, p) for p in sorted(verified))


def _checked_ids(nodes, params: set[str], columns: frozenset[str], names: frozenset[str]) -> set[str]:
    """The parameters these expressions compare in a query that also has a tenant condition."""
    if not any(_tenant_condition(node, columns, names) for node in nodes):
        return set()
    return {p for node in nodes for p in _ids_compared(node, params, columns)}


def _ids_compared(node, params: set[str], columns: frozenset[str]) -> set[str]:
    """Parameters equated to a column that is not a tenant column (`X.id == agent_id`)."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Compare) and len(sub.ops) == 1 and isinstance(sub.ops[0], ast.Eq):
            sides = (sub.left, sub.comparators[0])
            if any(isinstance(s, ast.Attribute) and s.attr.lower() in columns for s in sides):
                continue  # the tenant value itself
            out.update(side.id for side in sides if isinstance(side, ast.Name) and side.id in params)
        elif isinstance(sub, ast.Call):
            out.update(k.value.id for k in sub.keywords if k.arg in _ID_KEYWORDS and
                       isinstance(k.value, ast.Name) and k.value.id in params)
    return out


def _tenant_condition(node, columns: frozenset[str], names: frozenset[str]) -> bool:
    """A tenant column equated to a value, not under `or`."""
    weakened = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.BoolOp) and isinstance(sub.op, ast.Or) or \
                isinstance(sub, ast.Call) and (dotted(sub.func) or "").rsplit(".", 1)[-1] == "or_":
            weakened.update(id(n) for n in ast.walk(sub))
    for sub in ast.walk(node):
        if id(sub) in weakened:
            continue
        if isinstance(sub, ast.Compare) and len(sub.ops) == 1 and isinstance(sub.ops[0], ast.Eq):
            sides = (sub.left, sub.comparators[0])
            tenant = [s for s in sides if isinstance(s, ast.Attribute) and s.attr.lower() in columns]
            if tenant and not (len(tenant) == 2 and ast.dump(sides[0]) == ast.dump(sides[1])):
                return True
        elif isinstance(sub, ast.Call) and any(k.arg and k.arg.lower().split("__")[0] in names for k in sub.keywords):
            return True
    return False


def _raises_when_empty(value) -> bool:
    for sub in ast.walk(value):
        if isinstance(sub, ast.Attribute) and sub.attr in RAISING:
            return True
        if isinstance(sub, ast.Call):
            name = dotted(sub.func) or ""
            last = name.rsplit(".", 1)[-1]
            if last in RAISING or last in _DJANGO_GET and (".objects." in f".{name}." or "_manager." in name):
                return True
    return False


def _assigned_once(func) -> dict[str, ast.expr]:
    seen: dict[str, list] = {}
    for node in own_nodes(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    seen.setdefault(target.id, []).append(node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name):
            seen.setdefault(node.target.id, []).extend([node.value, node.value])  # never "once"
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


DISCOVERERS: tuple = (Verifiers(),)
