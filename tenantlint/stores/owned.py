"""Object stores that belong to one tenant: the bucket of a tenant's row.

A project that lets each tenant bring its own bucket keeps the bucket name and the
credentials on a row of a tenant model (a storage model with `bucket`, `prefix`,
`aws_access_key_id`...), and builds the client in that model's methods from `self`.
Every object in such a bucket belongs to the tenant that owns the row, so its keys and
listing prefixes need no tenant component (SPEC "What scoped means for ORM queries and
store calls"). An object call is in such a store when it runs in a method of a *tenant
row class* and:

- the bucket it names (the pack's `bucket` argument: `Bucket=`, `bucket_or_name`,
  `container=`) is read from `self` (`Bucket=self.bucket`, a local bound to it); or,
  when the call names no bucket, its receiver was made by a method of the row
  (`self.get_client()`, `container = self.get_container()`, `s3.Bucket(self.bucket)`).

A bucket the call names from anything else (a constant, a setting, a URL) decides
against: a shared bucket keyed without the tenant stays a finding, whoever made the
client. A tenant row class is a tenant model, or a project class (an abstract model, a
mixin) every subclass of which is one (`row_classes`); a subclass a test module defines
(a concrete stand-in for the mixin) does not count."""
from __future__ import annotations

import ast
from typing import Iterable, Mapping

from tenantlint.files import is_test_path

_MAX_DEPTH = 12


def row_classes(tenant_models: Iterable[str], classes: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """The tenant models (qualified) and the project classes all of whose subclasses are
    tenant row classes (a base shared with a model of no tenant is not one)."""
    tenant = set(tenant_models)
    children: dict[str, set[str]] = {}
    for cls, bases in classes.items():
        if is_test_path(cls.rpartition(".")[0].replace(".", "/") + ".py"):
            continue
        for base in bases:
            if base in classes:
                children.setdefault(base, set()).add(cls)
    memo: dict[str, bool] = {}

    def rows(cls: str, depth: int) -> bool:
        if cls in tenant:
            return True
        if cls in memo:
            return memo[cls]
        memo[cls] = False  # a cycle, or too deep: not a row class
        below = children.get(cls)
        found = bool(below) and depth < _MAX_DEPTH and all(rows(c, depth + 1) for c in below)
        memo[cls] = found
        return found

    return frozenset(c for c in (*tenant, *classes) if rows(c, 0))


def from_row(node: ast.AST | None, origin, calls: bool, rows: frozenset[str] = frozenset({"self"}),
             values: frozenset[str] = frozenset(), naming=None) -> bool:
    """`node` is read from `self`: an attribute of it, directly or through locals
    (`bucket = self.bucket`, `client, _ = self.get_client_and_bucket()`: `origin(name)`
    gives what a name holds). `rows`: the names that are the row (`self`, a parameter every
    caller fills with one), `values`: parameters every caller fills with a value read from
    one (`row_params`). With `calls`,
    a value made by a call on `self` counts too, and so does a chain of calls one of which
    is given values read from `self` and nothing else but plain constants
    (`s3.Bucket(self.bucket)`); a call given anything else as well (a string, a setting, a
    name from a URL) may name another bucket, and does not count. `naming(call)`: the
    arguments of a call that may name a bucket, when the API catalog knows them (a key
    given to `container.get_blob_client(key)` names none), None when it does not."""
    for _ in range(_MAX_DEPTH):
        if isinstance(node, (ast.Await, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            if not calls:
                return False
            given = naming(node) if naming is not None else None
            if given is None:  # any argument may name the bucket
                given = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
                given += [k.value for k in node.keywords]
            from_it = [a for a in given if from_row(a, origin, False, rows, values)]
            if from_it and all(a in from_it or _plain(a) for a in given):
                return True  # `s3.Bucket(self.bucket)`
            if given:
                # `client.bucket("shared")`, `get_bucket(credentials=row.key, bucket_name=from_url)`:
                # the bucket may be named by something else
                return False
            node = node.func
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in rows:
                return True
            node = node.value
        elif isinstance(node, ast.Name):
            if node.id in rows:
                return calls
            if node.id in values:
                return True
            node = origin(node.id)  # its value, or what it was unpacked from; None: a parameter
        else:
            return False
    return False


def _plain(node: ast.AST) -> bool:
    """A constant that cannot name a bucket: a number, a flag, None."""
    return isinstance(node, ast.Constant) and not isinstance(node.value, (str, bytes))


# -- utilities a row's methods pass their bucket or client to -------------------------------
def row_params(calls: Iterable, modules: Iterable, symbols, rows: frozenset[str]) -> dict[str, dict[str, str]]:
    """Qualified function -> {parameter: "r" (the row itself) or "v" (a value read from
    it)}, for the parameters every call in the project fills with one
    (tenantlint/discover/row_args.py): a call from a method of a tenant row class that
    passes `self` or what it reads from it, or a parameter of its caller that is such a
    parameter in turn. A caller that recorded no such call, a call that leaves the
    parameter to its default or to `*args`, or no caller at all: not a row value."""
    # Only a call from a tenant row class's method passes a row's value; a method of any
    # other class can only hand on a parameter that is one (`p:`): the rest cannot count.
    calls = [c for c in calls if c.caller.rpartition(".")[0] in rows or
             any(w.startswith("p:") for w in (*c.args, *(k[1] for k in c.keywords)))]
    if not rows or not calls:
        return {}
    functions = {f.name: f for mod in modules for f in mod.functions}
    scopes = [(f.name, f.calls) for f in functions.values()]
    scopes += [(f"{mod.module}.<module>", mod.calls) for mod in modules]
    sites: dict[tuple[str, str], list] = {}  # (callee, caller) -> recorded calls
    for call in calls:
        resolved = symbols.resolve(call.target)
        if resolved is not None and resolved[0] in functions:
            sites.setdefault((resolved[0], call.caller), []).append(call)
    callees = {callee for callee, _caller in sites}
    if not callees:
        return {}
    short = {name.rsplit(".", 1)[-1] for name in callees}
    callers: dict[str, set[str]] = {}
    seen: dict = {}  # a call fact recurs (`self.save()` in every method): resolved once
    for caller, facts in scopes:  # every caller of a candidate, recorded or not
        for fact in facts:
            name = (fact.attr or fact.target).rsplit(".", 1)[-1]
            if name in short:
                resolved = seen.get(fact, False)
                if resolved is False:
                    resolved = seen[fact] = symbols.resolve(fact)
                if resolved is not None and resolved[0] in callees:
                    callers.setdefault(resolved[0], set()).add(caller)
    owned: dict[str, dict[str, str]] = {}
    changed = True
    while changed:  # grows from nothing: a cycle of callers proves nothing
        changed = False
        for callee in callees:
            for param in functions[callee].params:
                if param in owned.get(callee, {}):
                    continue
                kind = _filled(callee, param, functions[callee].params, callers.get(callee, ()), sites, owned, rows)
                if kind:
                    owned.setdefault(callee, {})[param] = kind
                    changed = True
    return owned


def _filled(callee: str, param: str, params: tuple[str, ...], callers, sites, owned, rows) -> str:
    """What every call of `callee` passes as `param`: "r", "v", or "" (not a row's)."""
    kinds = set()
    for caller in callers:
        recorded = sites.get((callee, caller))
        if not recorded:
            return ""
        owner = caller.rpartition(".")[0]
        for call in recorded:
            word = dict(call.keywords).get(param)
            if word is None:
                index = params.index(param)
                word = call.args[index] if index < len(call.args) else None
            if word is None:
                return ""  # left to its default, or to `*args` / `**kwargs`
            if word in ("r", "v"):
                if owner not in rows:
                    return ""
                kinds.add(word)
            elif word.startswith("p:") and owned.get(caller, {}).get(word[2:]):
                kinds.add(owned[caller][word[2:]])
            else:
                return ""
    return kinds.pop() if len(kinds) == 1 else ""
