"""Which tenant value a fix may insert: one already in reach in the function.

In order: a parameter named after the tenant column (`team_id`) or its relation
(`team`), or containing `tenant` (the caller's scope value); a local variable so named
that holds the authenticated tenant; an attribute that the function (for `self`, its
class) already reads and that is the authenticated tenant (`request.tenant`,
`self.team_id`, a `tenant-sources` entry), or a parameter's tenant attribute the
function reads (`actor.organization_id`). Whether a value is the authenticated tenant
is the project's answer (tenantlint.tenant_sources); request input is never inserted.
Nothing else: a fix never invents where the tenant comes from."""
from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from tenantlint.fixes.tree import CstFile
from tenantlint.grammar import parse as parse_module
from tenantlint.names import ImportMap
from tenantlint.tenant_sources import TenantSources

_OWNERS = ("request", "g", "self", "request.user", "self.request", "self.request.user", "flask.g")


@dataclass(frozen=True)
class TenantValue:
    code: str  # the expression, as source text
    is_id: bool  # the tenant column's value (`team_id`) rather than the tenant object (`team`)

    def id_code(self) -> str:
        return self.code if self.is_id else f"{self.code}.id"


class Judge:
    """The project's answer (tenantlint.tenant_sources: `tenant-sources` and the built-in
    guesses) on whether an expression in a function is the authenticated tenant, or
    request input (never inserted: that would be the client choosing its tenant)."""

    def __init__(self, text: str, module_name: str, settings, tenant_columns) -> None:
        try:
            self.module = parse_module(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            self.module = None
        imports = ImportMap(self.module, module_name) if self.module is not None else None
        self.sources = TenantSources(settings.tenant_sources, tenant_columns, self.module, imports)
        self.functions = {} if self.module is None else {
            f.lineno: f for f in ast.walk(self.module) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def names(self, dotted: str) -> bool:
        """A configured source, or an attribute whose name says tenant (not `tenant.name`)."""
        return dotted in self.sources.values or self.sources.word_is_tenant(dotted.rsplit(".", 1)[-1])

    def verdict(self, code: str, line: int) -> str:
        """"tenant", "input" or "unknown" for `code` read in the function defined on `line`."""
        function = self.functions.get(line)
        try:
            expr = ast.parse(code, mode="eval").body
        except SyntaxError:
            return "unknown"
        values = self.sources.function(function)
        if values.request_input(expr) is not None:
            return "input"
        return "tenant" if values.is_tenant(expr) else "unknown"


def tenant_value(tree: CstFile, node: cst.CSTNode, column: str, judge: Judge | None = None) -> TenantValue | None:
    function = tree.function_of(node)
    if function is None:
        return None
    line = tree.positions[function.name].start.line

    def verdict(code: str) -> str:
        return judge.verdict(code, line) if judge is not None else "unknown"

    relation = column[:-3] if column.endswith("_id") else None
    # A parameter that defaults to None may be None here: inserting it would turn a
    # tenant-optional helper into a crash for the callers that pass nothing.
    params = [p for p in _parameters(function) if p not in _optional(function)]
    # 1. a parameter named after the tenant: the caller's scope value
    for name in [n for n in (column, relation) if n in params] + [n for n in params if _tenantish(n)]:
        if verdict(name) != "input":
            return TenantValue(name, name.endswith("_id") or name == column)
    # 2. a local so named, when it holds the authenticated tenant on every path
    for name in _memo(tree, "assigned", function, _assigned):
        if (name in (column, relation) or _tenantish(name)) and verdict(name) == "tenant":
            return TenantValue(name, name.endswith("_id"))
    # 3. an attribute the function (for `self`, its class) already reads
    scopes: list[cst.CSTNode] = [function]
    owner = tree.class_of(function)
    if owner is not None:
        scopes.append(owner)
    for scope in scopes:
        for dotted in _memo(tree, "attributes", scope, _attributes):
            base, _, attr = dotted.rpartition(".")
            if attr not in (column, relation, "tenant", "tenant_id") and not (judge and judge.names(dotted)):
                continue
            found = verdict(dotted)
            root = base.split(".")[0]
            if found == "input" or root not in params and root != "g":
                continue
            # the project's sources say so, or (without them) request/g/self attributes, or
            # an attribute of a parameter the function already reads (`actor.organization_id`)
            if found == "tenant" or (judge is None and base in _OWNERS) or \
                    (scope is function and root in params and attr in (column, relation)):
                return TenantValue(dotted, attr.endswith("_id"))
    return None


def _tenantish(name: str) -> bool:
    return "tenant" in name.lower() and name.lower() not in ("tenant_ids", "tenants")


def _memo(tree: CstFile, what: str, node: cst.CSTNode, compute):
    key = (what, id(node))
    if key not in tree.memo:
        tree.memo[key] = compute(node)
    return tree.memo[key]


def _optional(function: cst.FunctionDef) -> set[str]:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return {p.name.value for p in every
            if isinstance(p.default, cst.Name) and p.default.value == "None"}


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
