"""Which tenant value a fix may insert: one already in reach in the function.

In order: a parameter named after the tenant column (`team_id`) or its relation
(`team`), or containing `tenant`; a local variable so named; an attribute of
`request`, `g`, `self` or the request's user that the function (or, for `self`, its
class) already reads and that names the tenant (`request.tenant`, `self.team_id`).
Nothing else: a fix never invents where the tenant comes from.

Kept to this one function so that the project's `tenant-sources` (what counts as the
authenticated tenant) can decide it when available."""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from tenantlint.fixes.tree import CstFile

_OWNERS = ("request", "g", "self", "request.user", "self.request", "self.request.user", "flask.g")


@dataclass(frozen=True)
class TenantValue:
    code: str  # the expression, as source text
    is_id: bool  # the tenant column's value (`team_id`) rather than the tenant object (`team`)

    def id_code(self) -> str:
        return self.code if self.is_id else f"{self.code}.id"


def tenant_value(tree: CstFile, node: cst.CSTNode, column: str) -> TenantValue | None:
    function = tree.function_of(node)
    if function is None:
        return None
    relation = column[:-3] if column.endswith("_id") else None
    names = _parameters(function) + _memo(tree, "assigned", function, _assigned)
    for wanted in (column, relation):
        if wanted and wanted in names:
            return TenantValue(wanted, wanted == column)
    for name in names:
        if "tenant" in name.lower() and name.lower() not in ("tenant_ids", "tenants"):
            return TenantValue(name, name.endswith("_id"))
    scopes: list[cst.CSTNode] = [function]
    owner = tree.class_of(function)
    if owner is not None:
        scopes.append(owner)
    params = set(_parameters(function))
    for scope in scopes:
        for dotted in _memo(tree, "attributes", scope, _attributes):
            base, _, attr = dotted.rpartition(".")
            root = base.split(".")[0]
            # request/g/self attributes, or an attribute of a parameter that the function
            # already reads as the tenant (`actor.organization_id`)
            known = base in _OWNERS or (scope is function and root in params and attr in (column, relation))
            if not known or (root not in params and root != "g"):
                continue
            if attr == column:
                return TenantValue(dotted, True)
            if attr == relation or (attr.startswith("tenant") and attr in ("tenant", "tenant_id")):
                return TenantValue(dotted, attr.endswith("_id"))
    return None


def _memo(tree: CstFile, what: str, node: cst.CSTNode, compute):
    key = (what, id(node))
    if key not in tree.memo:
        tree.memo[key] = compute(node)
    return tree.memo[key]


def _parameters(function: cst.FunctionDef) -> list[str]:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return [p.name.value for p in every]


def _assigned(function: cst.FunctionDef) -> list[str]:
    found: list[str] = []

    class Targets(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                found.append(node.target.value)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

    function.visit(Targets())
    return found


def _attributes(scope: cst.CSTNode) -> list[str]:
    found: list[str] = []

    class Attributes(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            dotted = _dotted(node)
            if dotted:
                found.append(dotted)

    scope.visit(Attributes())
    return found


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None
