"""Is an id trusted, and where does an untrusted one come from (SPEC "Indirect tenancy
and trusted ids"), for one value inside one function.

The ORM checks (tenantlint/orm/provenance.py) and the SQL checks (a parent-key
parameter, tenantlint/rules/sql_trust.py) ask the same question of a Python value; what
differs is how each knows a row loaded under scope and an id verified by a scoped query,
so those come in as callbacks. Trusted: a `tenant-sources` value; the primary key, or a
foreign-key column, of a row loaded under scope (`row.id`, `row["app_id"]`); such a row
itself (`Message.conversation == conv`); an id verified before this line; a cast of one.
Request input never is (what the client sent, or a route's path, query and body
parameters); a parameter is not (no call summaries yet)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

PRIMARY_KEYS = frozenset({"id", "pk"})
CASTS = frozenset({"str", "int", "UUID", "uuid.UUID"})
FROM_REQUEST = "by an id from the request"
FROM_CALLER = "by an id the caller passes"
_MAX_DEPTH = 5


@dataclass
class IdOrigin:
    """The answers inside one function. `values`: its tenant_sources.FunctionValues (None:
    no function); `resolve(name)`: the value a name holds there (the name itself when
    unknown); `row(node)`: the models (or tables) of the row loaded under scope that an
    expression holds, else None; `verified(name, line)`: was that id verified by a scoped
    query before the line; `keys(model)`: the foreign-key columns of a model or table;
    `route_inputs()`: the function's parameters the client fills (a route or view)."""

    values: object
    resolve: Callable[[ast.Name], ast.AST]
    row: Callable[[ast.AST], frozenset[str] | None]
    verified: Callable[[str, int], bool]
    keys: Callable[[str], frozenset[str]]
    route_inputs: Callable[[], frozenset[str]]

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
            return self.verified(node.id, node.lineno)
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and \
                call_name(node.func) in CASTS:
            return self.trusted(node.args[0], depth + 1)
        column = column_of(node)
        if column is not None:
            models = self.row(node.value)
            if models is None:
                return False
            return column in PRIMARY_KEYS or any(column in self.keys(m) for m in models)
        if isinstance(node, (ast.Call, ast.Await)):
            # The row itself stands for its key (`Message.conversation == conv` in peewee).
            return self.row(node) is not None
        return False

    def source(self, node) -> str | None:
        """Where an untrusted id comes from, for the message: the request (what the client
        sent, or a path, query or body parameter of a route), or the caller."""
        if self.values is not None and self.values.request_input(node) is not None:
            return FROM_REQUEST
        node = self.resolve(node) if isinstance(node, ast.Name) else node
        base = node
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value  # `body.agent_ids[0]`: a field of a request body model
        if isinstance(base, ast.Name) and base.id in self.route_inputs():
            return FROM_REQUEST
        if isinstance(node, ast.Name):
            return FROM_CALLER
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
