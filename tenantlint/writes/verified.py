"""A tenant value from the request that the function checks before it counts.

The fix for TL601 is to take the tenant from the session, or to check that the
requested tenant is one the user may use. A finding is dropped when the function does
the latter before the use:

* a guard that leaves: `if org_id not in user.org_ids: raise ...`,
  `if not can_access(user, org_id): return HttpResponseForbidden()` (the test names the
  value and asks something of it: a call or an `in`; `if not org_id: return` checks
  presence only);
* a checking call on its own line: `authorize(user, Policy.list(org_id))`,
  `check_membership(request.user, org_id)` (a name that says it checks);
* the same function also narrows by the tenant to a set the request did not choose
  (`Q(organization_id=org) & Q(organization__in=user.organizations_managed)`)."""
from __future__ import annotations

import ast

from tenantlint.local_values import FunctionValues
from tenantlint.writes.body import Body

CHECK_WORDS = ("authoriz", "permission", "check", "verify", "ensure", "require", "assert", "access", "member",
               "allowed", "guard")
LEAVING_CALLS = ("abort", "raise_", "deny", "forbid")
_PLAIN_CALLS = frozenset({"len", "bool", "int", "str", "isinstance", "getattr", "hasattr", "type"})


class Verification:
    def __init__(self, body: Body, values: FunctionValues, tenant_names: frozenset[str]) -> None:
        self.body = body
        self.values = values
        self.names = tenant_names
        self._narrowed: bool | None = None

    def verified(self, value: ast.expr) -> bool:
        names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
        line = value.lineno
        return self.narrowed_elsewhere() or any(
            self._guard(stmt, names) for stmt in self.body.ifs if stmt.lineno < line) or any(
            self._check_call(stmt, names) for stmt in self.body.checks if stmt.lineno < line)

    def narrowed_elsewhere(self) -> bool:
        """A tenant `__in` lookup whose value the request did not choose."""
        if self._narrowed is None:
            self._narrowed = any(
                k.arg and k.arg.endswith("__in") and k.arg.split("__", 1)[0] in self.names and
                not isinstance(k.value, ast.Constant) and self.values.request_input(k.value) is None
                for call in self.body.calls for k in call.keywords)
        return self._narrowed

    def _guard(self, stmt: ast.If, names: set[str]) -> bool:
        test = stmt.test
        if not names or not names & {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}:
            return False
        asks = any(isinstance(n, ast.Call) and _name(n.func) not in _PLAIN_CALLS for n in ast.walk(test)) or \
            any(isinstance(n, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in n.ops)
                for n in ast.walk(test))
        return asks and _leaves(stmt.body)

    def _check_call(self, stmt: ast.Expr, names: set[str]) -> bool:
        call = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        if not isinstance(call, ast.Call) or not names:
            return False
        if not names & {n.id for n in ast.walk(call) if isinstance(n, ast.Name)}:
            return False
        return any(word in _name(call.func).lower() for word in CHECK_WORDS)


def _leaves(stmts: list[ast.stmt]) -> bool:
    last = stmts[-1] if stmts else None
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return any(word in _name(last.value.func).lower() for word in LEAVING_CALLS)
    return False


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""
