"""Following one function's local values back to where they come from.

`FunctionValues` answers `tenant_sources`' two questions for expressions of one function:
a value is the authenticated tenant when every assignment that can reach it is one, and
request input when some assignment is (a name is followed once per function). Values
pass through subscripts and `.get()`, f-strings and concatenation, casts (`int(...)`,
`UUID(...)`, containers such as `list(...)`), helpers of the same module that return
the request's data or pass their argument through, and helpers of other modules the
catalog pass found returning request input. The file-level knowledge (configured
sources, request objects, helpers) comes from the `TenantSources` it is given."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from tenantlint.names import child_statements, dotted

if TYPE_CHECKING:
    from tenantlint.tenant_sources import TenantSources

# Calls that convert a value without changing whose it is.
CASTS = frozenset({
    "int", "str", "float", "bool", "UUID", "uuid.UUID", "Decimal", "decimal.Decimal", "ObjectId",
    "bson.ObjectId", "bson.objectid.ObjectId", "PydanticObjectId", "json.loads", "orjson.loads",
    # containers of the input are input: `for i, org in enumerate(request.GET.getlist("org"))`
    "list", "tuple", "set", "sorted", "reversed", "enumerate", "zip", "dict", "frozenset",
})
# Methods on a value that keep it the same value (`request.GET.get("x")`, `raw.strip()`).
PASS_METHODS = frozenset({
    "get", "getlist", "pop", "strip", "lower", "upper", "split", "decode", "encode", "lstrip", "rstrip",
    "format", "replace", "getone", "get_all", "items", "values", "keys", "copy", "dict", "to_dict",
})
_MAX_DEPTH = 8
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class FunctionValues:
    """`is_tenant` / `request_input` for expressions of one function, following its
    local variables (every assignment in the body, on any path)."""

    def __init__(self, sources: TenantSources, func: ast.AST | None) -> None:
        self.sources = sources
        self.func = func
        self._assigned: dict[str, list[ast.expr]] | None = None
        self._inputs: set[str] | None = None
        self._input_names: dict[str, ast.expr | None] = {}
        self._tenant_names: dict[str, bool] = {}

    @property
    def assigned(self) -> dict[str, list[ast.expr]]:
        """Name -> every value assigned to it in the body (read on first use)."""
        if self._assigned is None:
            self._assigned = {}
            if isinstance(self.func, _FUNCS):
                self._assignments(self.func.body)
        return self._assigned

    @property
    def inputs(self) -> set[str]:
        """Parameters that are request input (FastAPI `Query()`, `Header()`...)."""
        if self._inputs is None:
            self._inputs = set()
            if isinstance(self.func, _FUNCS):
                self._parameters(self.func)
        return self._inputs

    def _parameters(self, func) -> None:
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
        for arg, default in pairs:
            markers = self.sources.web.parameters
            if _marked_input(default, markers) or _marked_input(arg.annotation, markers):
                self._inputs.add(arg.arg)

    def _assignments(self, body: list[ast.stmt]) -> None:
        stack: list[ast.AST] = list(body)
        while stack:  # iterative: a deeply nested expression must not exhaust the stack
            node = stack.pop()
            if isinstance(node, _NESTED):
                continue
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind(target, node.value)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                self._bind(node.target, node.value)
            elif isinstance(node, ast.NamedExpr):
                self._bind(node.target, node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._bind(node.target, node.iter)  # an element of the input is input
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars, item.context_expr)
            stack.extend(ast.iter_child_nodes(node))

    def _bind(self, target: ast.AST, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._assigned.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and \
                len(value.elts) == len(target.elts) else [value] * len(target.elts)
            for part, part_value in zip(target.elts, values):
                self._bind(part, part_value)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, value)

    # -- public ---------------------------------------------------------------------------
    def is_tenant(self, node: ast.AST | None) -> bool:
        """Does this expression yield the authenticated tenant on every path?"""
        return node is not None and self._tenant(node, 0, frozenset())

    def request_input(self, node: ast.AST | None) -> ast.expr | None:
        """The request read this expression's value comes from on some path
        (`request.GET["store"]`), or None when it is not request input."""
        if node is None:
            return None
        return self._input(node, 0, frozenset())

    # -- following values -------------------------------------------------------------------
    def _tenant(self, node: ast.AST, depth: int, seen: frozenset[str]) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if self.sources.names_tenant(node):
            return True
        if isinstance(node, ast.Name):
            values = self.assigned.get(node.id)
            if not values or node.id in seen:
                return False
            if node.id not in self._tenant_names:  # each name is followed once per function
                self._tenant_names[node.id] = False
                self._tenant_names[node.id] = all(self._tenant(v, depth + 1, seen | {node.id}) for v in values)
            return self._tenant_names[node.id]
        if isinstance(node, ast.Attribute):
            # `tenant.id` where `tenant = request.tenant`.
            return isinstance(node.value, ast.Name) and node.value.id in self.assigned and \
                self._tenant(node.value, depth + 1, seen)
        if isinstance(node, ast.Await):
            return self._tenant(node.value, depth + 1, seen)
        if isinstance(node, ast.Call) and _call_name(node) in CASTS and len(node.args) == 1:
            return self._tenant(node.args[0], depth + 1, seen)
        if isinstance(node, ast.IfExp):
            return self._tenant(node.body, depth + 1, seen) and self._tenant(node.orelse, depth + 1, seen)
        return False

    def _input(self, node: ast.AST, depth: int, seen: frozenset[str]) -> ast.expr | None:
        if depth > _MAX_DEPTH or not isinstance(node, ast.expr):
            return None
        sources = self.sources
        if sources.configured(node):
            return None  # a `tenant-sources` entry is trusted, even one read from a header
        if sources.reads_request(node):
            return node
        if isinstance(node, ast.Name):
            if node.id in self.inputs:
                return node
            if node.id in seen:
                return None
            if node.id in self._input_names:  # each name is followed once per function
                return self._input_names[node.id]
            self._input_names[node.id] = None
            for value in self.assigned.get(node.id, ()):
                found = self._input(value, depth + 1, seen | {node.id})
                if found is not None:
                    self._input_names[node.id] = found
                    return found
            return None
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            return self._input(node.value, depth + 1, seen)
        if isinstance(node, ast.Await):
            return self._input(node.value, depth + 1, seen)
        if isinstance(node, ast.JoinedStr):
            return self._first(
                (v.value for v in node.values if isinstance(v, ast.FormattedValue)), depth, seen)
        if isinstance(node, ast.BinOp):
            return self._first((node.left, node.right), depth, seen)
        if isinstance(node, ast.BoolOp):
            return self._first(node.values, depth, seen)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return self._first(node.elts, depth, seen)
        if isinstance(node, ast.IfExp):
            return self._first((node.body, node.orelse), depth, seen)
        if isinstance(node, ast.Call):
            return self._call_input(node, depth, seen)
        return None

    def _first(self, nodes, depth: int, seen: frozenset[str]) -> ast.expr | None:
        for child in nodes:
            found = self._input(child, depth + 1, seen)
            if found is not None:
                return found
        return None

    def _call_input(self, node: ast.Call, depth: int, seen: frozenset[str]) -> ast.expr | None:
        name = _call_name(node)
        if name in CASTS and node.args:
            return self._input(node.args[0], depth + 1, seen)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PASS_METHODS:
            return self._input(func.value, depth + 1, seen)
        helper = self.sources.helpers.get(func.id) if isinstance(func, ast.Name) else None
        if helper is None:
            return node if self.sources.project_helper(func) else None
        if helper is self.func:
            return None
        # A helper of this module: request input when it reads the request itself, or
        # passes through an argument that is.
        inner = self.sources.function(helper)
        for ret in returns(helper):
            if inner._input(ret, depth + 1, frozenset()) is not None:
                return node
        for param, arg in _bound_arguments(helper, node):
            if arg is not None and any(_uses(ret, param, inner) for ret in returns(helper)):
                found = self._input(arg, depth + 1, seen)
                if found is not None:
                    return found
        return None


def _call_name(node: ast.Call) -> str:
    return dotted(node.func) or ""


def _marked_input(node: ast.AST | None, markers: frozenset[str]) -> bool:
    """`Query(None)`, `fastapi.Header(...)`, `Annotated[str, Query()]`."""
    if node is None or not markers:
        return False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = (dotted(sub.func) or "").rsplit(".", 1)[-1]
            if name in markers:
                return True
    return False


def returns(func) -> list[ast.expr]:
    """The values a function returns (nested functions left out)."""
    out: list[ast.expr] = []
    stack = list(func.body)
    while stack:  # statements only: a return is never inside an expression
        node = stack.pop()
        if isinstance(node, _NESTED):
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            out.append(node.value)
        stack.extend(child_statements(node))
    return out


def _bound_arguments(func, call: ast.Call) -> list[tuple[str, ast.expr | None]]:
    params = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    out: list[tuple[str, ast.expr | None]] = list(zip(params, call.args))
    names = set(params) | {a.arg for a in func.args.kwonlyargs}
    out.extend((k.arg, k.value) for k in call.keywords if k.arg in names)
    return out


def _uses(node: ast.expr, param: str, values: FunctionValues) -> bool:
    """Does a returned expression carry the parameter's value (directly or through locals,
    casts and methods that keep it)?"""
    probe = FunctionValues(values.sources, values.func)
    probe._assigned, probe._inputs = values.assigned, {param}
    return probe._input(node, 0, frozenset()) is not None
