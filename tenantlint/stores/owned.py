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

from tenantlint.init import is_test_path

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


def from_row(node: ast.AST | None, origin, calls: bool) -> bool:
    """`node` is read from `self`: an attribute of it, directly or through locals
    (`bucket = self.bucket`, `client, _ = self.get_client_and_bucket()`: `origin(name)`
    gives what a name holds). With `calls`,
    a value made by a call on `self` counts too, and so does a chain of calls one of which
    is given a value read from `self` (`s3.Bucket(self.bucket)`); a bucket named there by
    anything else (a constant, a setting) does not."""
    for _ in range(_MAX_DEPTH):
        if isinstance(node, (ast.Await, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            if not calls:
                return False
            given = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
            given += [k.value for k in node.keywords]
            if given and any(from_row(a, origin, False) for a in given):
                return True
            if any(isinstance(a, ast.Constant) or _setting(a) for a in given):
                return False  # `client.bucket("shared")`: a bucket of the deployment
            node = node.func
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return True
            node = node.value
        elif isinstance(node, ast.Name):
            if node.id == "self":
                return calls
            node = origin(node.id)  # its value, or what it was unpacked from; None: a parameter
        else:
            return False
    return False


def _setting(node: ast.AST) -> bool:
    """`settings.EXPORT_BUCKET`, `os.environ["BUCKET"]`, `config.BUCKET`: the deployment's."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return isinstance(node, ast.Name) and node.id in ("settings", "os", "environ", "config", "conf")
