"""What each call of the project passes, as the caller's own syntax says (SPEC "Indirect
tenancy and trusted ids": an id that is a parameter is trusted when every call in the
project passes a trusted value).

Recorded by the catalog pass in the walk that already finds each function's calls
(tenantlint/discover/functions.py `calls_in`): per call with arguments, what goes
through it (a CallFact, resolved across the project later by tenantlint/caller_trust.py)
and one word per argument, by position and keyword:

- `t`: trusted here: a constant; an attribute naming a tenant column or relation
  (`actor.organization_id`); the key of an object in hand (`project.id`,
  `task.project_id`: judged where it was loaded, as tenantlint/orm/parent_keys.py
  `object_in_hand` says); a cast of one.
  A DRF view's `self.get_object()` is such an object too (its queryset and object
  permissions are judged where the view declares them).
- `p:<name>`: a parameter of the caller, passed on untouched: trusted when the caller's
  own callers pass trusted values.
- `a:<attribute>`: another attribute of an object in hand (`reimport.project`): trusted
  when a model of the project has a foreign key or relation of that name (a row in hand's
  parent row), not when it is a plain column (free text, a JSON list of ids).
- `n:<name>`: another local name, `r:<name>`: a route's parameter (what the client
  sent): trusted only if a verifier of the project checked it first in the caller.
- `u`: anything else (request input, a route's path or body parameter, an expression).

A call that hands a function of the project to something that runs it
(`start_job_async_or_sync(func, a, b)`, an executor's `submit(func, a)`, Celery's
`func.delay(a, b)` / `func.apply_async(args=[a, b])`) is also recorded as a call of that
function with those arguments; a function handed to a call as any other argument
(`Thread(target=f)`, `map(f, ids)`) is called with arguments not in sight: an opaque
call of it."""
from __future__ import annotations

import ast

from tenantlint.caller_trust import TRUSTED, UNTRUSTED, CallSite
from tenantlint.callgraph import CallFact
from tenantlint.names import dotted
from tenantlint.orm.parent_keys import UNTRUSTED_PARTS, object_in_hand

_CASTS = frozenset({"str", "int", "UUID", "uuid.UUID"})
# Celery's ways of running a task later with these arguments.
_DEFERRED = frozenset({"delay", "s", "si", "signature"})
_MAX_DEPTH = 3


class Describer:
    """Words for the arguments of one function's calls. `params`: its parameters (the first
    of a method left out), `inputs`: those the client fills (a route's), `words`: the
    tenant columns and relations (lower case), `values`: the caller's local name -> last
    value assigned (as the walk has seen them)."""

    def __init__(self, params: frozenset[str], inputs: frozenset[str], words: frozenset[str], values: dict) -> None:
        self.params = params
        self.inputs = inputs
        self.values = values
        self.words = words

    def sites(self, call: ast.Call, fact: CallFact | None, qualify) -> list[CallSite]:
        out = []
        if fact is not None and (call.args or call.keywords) and (fact.kind != "function" or "." in fact.target):
            # (a bare name that qualifies to no module is a builtin or a local: no project function)
            out.append(self._site(call.lineno, fact, call.args, call.keywords))
        job = self._job(call, qualify)
        if job is not None:
            out.append(job)
        # A function handed on as a value (`Thread(target=f)`, `map(f, ids)`, a callback) is
        # called with what this code does not show: an opaque call of it.
        handed = [k.value for k in call.keywords] + call.args[1 if job is not None else 0:]
        for value in handed:
            if type(value) is ast.Name:
                target = self._function(value, qualify)
                if target is not None:
                    out.append(CallSite(call.lineno, target, (), (), 0, True))
        return out

    def _site(self, line: int, fact: CallFact, args, keywords) -> CallSite:
        star = next((i for i, a in enumerate(args) if isinstance(a, ast.Starred)), -1)
        return CallSite(line, fact, tuple(self.word(a) for a in args),
                        tuple((k.arg, self.word(k.value)) for k in keywords if k.arg is not None), star,
                        any(k.arg is None for k in keywords))

    def _job(self, call: ast.Call, qualify) -> CallSite | None:
        """`run_later(func, a, b)`, `func.delay(a, b)`, `func.apply_async(args=[a, b])`: a
        call of `func` (a name of the module or an import, not a local value)."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _DEFERRED | {"apply_async"}:
            target = self._function(func.value, qualify)
            if target is None:
                return None
            if func.attr != "apply_async":
                return self._site(call.lineno, target, call.args, call.keywords)
            given = {k.arg: k.value for k in call.keywords}
            args, kwargs = given.get("args"), given.get("kwargs")
            if args is not None and not isinstance(args, (ast.List, ast.Tuple)) or \
                    kwargs is not None and not isinstance(kwargs, ast.Dict):
                return CallSite(call.lineno, target, (), (), 0, True)  # opaque: fills anything
            keywords = [ast.keyword(arg=k.value if isinstance(k, ast.Constant) else None, value=v)
                        for k, v in zip(kwargs.keys, kwargs.values)] if kwargs is not None else []
            return self._site(call.lineno, target, args.elts if args is not None else [], keywords)
        if call.args and len(call.args) > 1:
            target = self._function(call.args[0], qualify)
            if target is not None:
                return self._site(call.lineno, target, call.args[1:], call.keywords)
        return None

    def _function(self, node, qualify) -> CallFact | None:
        chain = dotted(node)
        if chain is None:
            return None
        head = chain.split(".", 1)[0]
        if head in self.values or head in self.params or head in ("self", "cls"):
            return None
        name = qualify(node)
        if not name or "." not in name:
            return None
        if isinstance(node, ast.Name):
            return CallFact("function", name)
        owner, attr = name.rsplit(".", 1)
        return CallFact("member", owner, attr)

    def word(self, node, depth: int = 0) -> str:
        kind = type(node)
        if kind is ast.Constant:
            return TRUSTED
        if kind is ast.Name:
            name = node.id
            value = self.values.get(name)
            if value is not None:
                found = self.word(value, depth + 1) if depth < _MAX_DEPTH else UNTRUSTED
                return found if found != UNTRUSTED else f"n:{name}"
            if name in self.params:
                return f"r:{name}" if name in self.inputs else f"p:{name}"
            return f"n:{name}"
        if kind is ast.Attribute:
            return self._attribute(node)
        if kind is ast.Call and len(node.args) == 1 and not node.keywords and dotted(node.func) in _CASTS:
            return self.word(node.args[0], depth + 1) if depth < _MAX_DEPTH else UNTRUSTED
        if kind is ast.Call and not node.args and dotted(node.func) == "self.get_object":
            return TRUSTED
        return UNTRUSTED

    def _attribute(self, node: ast.Attribute) -> str:
        """A tenant value or the key of an object in hand (TRUSTED), another attribute of
        one (`a:<attribute>`), or what the client sent (UNTRUSTED)."""
        chain = dotted(node)
        if chain is None:
            return UNTRUSTED
        parts = chain.split(".")
        if UNTRUSTED_PARTS.intersection(parts) or parts[0] in self.inputs:
            return UNTRUSTED
        if _from_request(self.values.get(parts[0])):
            return UNTRUSTED  # `body = await request.json()`: a field of what the client sent
        lowered = [p.lower() for p in parts[1:]]
        if any(p in self.words or "tenant" in p for p in lowered) or object_in_hand(node):
            return TRUSTED
        return f"a:{parts[-1]}"


def _from_request(value) -> bool:
    """Is the value read off the request itself (`request.data`, `await request.json()`,
    `request.GET["x"]`), not a query that merely mentions it?"""
    for _ in range(8):
        if isinstance(value, ast.Await):
            value = value.value
        elif isinstance(value, ast.Call):
            value = value.func
        elif isinstance(value, (ast.Attribute, ast.Subscript)):
            value = value.value
        else:
            break
    return isinstance(value, ast.Name) and value.id == "request"
