"""Where a value comes from: the authenticated tenant, or the client's request.

Two questions about an expression inside one function, asked by the rules that must
tell a trusted tenant value from one the client picked (TL601), by the memoization rule
(TL407: a function reading the ambient tenant) and by fixes (what value to insert):

* **is it the authenticated tenant?** A `tenant-sources` entry (`request.tenant`,
  `flask.g.org_id`, a ContextVar `app.context.current_tenant`, a call
  `app.auth.current_org()`), an attribute of one (`request.tenant.id`), or a built-in
  guess: an attribute chain on `request`, `g` or `self` (or a module-level thread-local)
  naming a tenant column, its relation or `tenant` (`request.store`, `g.org_id`,
  `self.request.tenant.pk`), or a zero-argument `.get()` of a ContextVar named so
  (`current_tenant.get()`). Values read from request input never are, whatever their
  name (`request.GET.tenant_id`).
* **is it request input?** What the client sends (the framework knowledge is data:
  `rules/request_input/*.toml`, read by `tenantlint.request_packs`): Django `request.GET/POST/data/
  query_params/headers/COOKIES/META/body`, Flask `request.args/form/values/json/
  get_json()/headers/cookies`, Starlette/FastAPI `request.query_params/headers/cookies`
  and `await request.json()`/`form()`/`body()`, FastAPI parameters declared with
  `Query()/Header()/Cookie()/Body()/Form()`. Path parameters of a route are not
  (a permission layer usually checks them).

Both follow a value through local variables (a name is request input when any
assignment to it is, the tenant only when every one is), subscripts and `.get()`,
f-strings and concatenation, casts (`int(...)`, `UUID(...)`), and calls of helpers
defined in the same module that pass their argument through or read the request
themselves (`def store_param(): return request.args["store"]`).
"""
from __future__ import annotations

import ast
from typing import Iterable, Sequence

from tenantlint.names import ImportMap, child_statements, dotted, matches_name
from tenantlint.request_packs import RequestKnowledge, request_knowledge

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
_LOCAL_FACTORIES = ("threading.local", "werkzeug.local.Local", "local", "Local")
_CONTEXTVAR = ("contextvars.ContextVar", "ContextVar")
_MAX_DEPTH = 8

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class TenantSources:
    """The answers for one file: its imports, its module-level thread-locals and
    ContextVars, its helper functions, and the configured sources."""

    def __init__(self, configured: Sequence[str], tenant_columns: Iterable[str], module: ast.Module | None,
                 imports: ImportMap | None, project_helpers: frozenset[str] = frozenset()) -> None:
        # Qualified names of functions elsewhere in the project that return request input
        # (the catalog's `request_helpers`).
        self.project_helpers = project_helpers
        # What each web framework hands a view from the client (rules/request_input/*.toml).
        self.web: RequestKnowledge = request_knowledge()
        self.columns = {c.lower() for c in tenant_columns}
        self.relations = {c[:-3] for c in self.columns if c.endswith("_id") and len(c) > 3}
        self.calls = {c[:-2] for c in configured if c.endswith("()")}
        self.values = {c for c in configured if not c.endswith("()")}
        self.imports = imports
        self.locals: set[str] = set()  # module-level thread-locals and ContextVars
        self.helpers: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._functions: dict[int, FunctionValues] = {}
        if module is not None:
            self._collect(module)

    def _collect(self, module: ast.Module) -> None:
        for stmt in module.body:
            if isinstance(stmt, _FUNCS):
                self.helpers[stmt.name] = stmt
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
                factory = self._qualify(stmt.value.func) or ""
                if factory.endswith(_LOCAL_FACTORIES + _CONTEXTVAR):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    self.locals.update(t.id for t in targets if isinstance(t, ast.Name))

    def _qualify(self, node: ast.AST) -> str | None:
        return self.imports.qualify(node) if self.imports is not None else dotted(node)

    def word_is_tenant(self, word: str) -> bool:
        lowered = word.lower()
        return "tenant" in lowered or lowered in self.columns or lowered in self.relations

    def named_after_tenant(self, name: str) -> bool:
        """A variable's name that says it holds the tenant: `current_tenant`,
        `current_store_id`, `active_store` (for a `store_id` column)."""
        lowered = name.lower()
        if self.word_is_tenant(lowered) or any(column in lowered for column in self.columns):
            return True
        return any(piece in self.relations for piece in lowered.split("_"))

    def function(self, func: ast.AST | None) -> "FunctionValues":
        """The answers inside one function (or at module level, for None)."""
        key = id(func)
        values = self._functions.get(key)
        if values is None:
            values = self._functions[key] = FunctionValues(self, func)
        return values

    # -- the authenticated tenant, without local variables -------------------------------
    def names_tenant(self, node: ast.AST) -> bool:
        """An expression that reads the authenticated tenant by itself (no local names)."""
        if isinstance(node, ast.Await):
            node = node.value
        if self.configured(node):
            return True
        chain = _chain(node)
        if chain is None:
            return False
        root, parts, calls = chain
        web = self.web
        if any(p in web.attributes or p in web.methods for p in parts):
            return False
        if calls and parts and parts[-1] == "get" and not calls[-1].args and not calls[-1].keywords:
            # `current_tenant.get()`: a ContextVar read (a dict's get() takes a key).
            owner = parts[-2] if len(parts) > 1 else root
            return self.named_after_tenant(owner)
        if calls:
            return False
        if root in web.names or root in web.tenant_roots or root in self.locals:
            return any(self.word_is_tenant(p) for p in parts)
        qualified = (self._qualify(node) or "").split(".")
        for size in (2, 3):  # `flask.g.store_id` however `g` or `flask` was imported
            if ".".join(qualified[:size]) in web.tenant_objects:
                return any(self.word_is_tenant(p) for p in qualified[size:])
        return False

    def configured(self, node: ast.AST) -> bool:
        """A `tenant-sources` entry, an attribute of one, or a ContextVar entry's `.get()`."""
        if not (self.values or self.calls):
            return False
        while True:
            if isinstance(node, ast.Call):
                if self._matches(node.func, self.calls):
                    return True
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "get" and self._matches(func.value, self.values):
                    return True
                return False
            if isinstance(node, (ast.Name, ast.Attribute)) and self._matches(node, self.values):
                return True
            if isinstance(node, ast.Attribute):
                node = node.value
                continue
            return False

    def _matches(self, node: ast.AST, wanted: set[str]) -> bool:
        if not wanted:
            return False
        plain = dotted(node)
        if plain is None:
            return False
        qualified = self._qualify(node) or plain
        for name in wanted:
            if plain == name or plain.endswith("." + name) or qualified == name or \
                    qualified.endswith("." + name) or name.endswith("." + qualified):
                return True
        return False

    # -- request input, without local variables -----------------------------------------
    def reads_request(self, node: ast.AST) -> bool:
        """An expression that reads what the client sent by itself (no local names):
        `request.GET`, `request.args["x"]`, `request.get_json()`, `await request.json()`."""
        if isinstance(node, ast.Await):
            node = node.value
        current = node
        while True:
            if isinstance(current, ast.Call):
                current = current.func
                if isinstance(current, ast.Attribute) and current.attr in self.web.methods and \
                        self._is_request(current.value):
                    return True
            if isinstance(current, ast.Subscript):
                current = current.value
                continue
            if isinstance(current, ast.Attribute):
                if current.attr in self.web.attributes and self._is_request(current.value):
                    return True
                current = current.value
                continue
            return False

    def project_helper(self, func: ast.AST) -> bool:
        """A call of a function of another module that returns request input."""
        if not self.project_helpers or not isinstance(func, (ast.Name, ast.Attribute)):
            return False
        qualified = self._qualify(func)
        return qualified in self.project_helpers or \
            any(matches_name(qualified, helper) for helper in self.project_helpers)

    def _is_request(self, node: ast.AST) -> bool:
        name = dotted(node)
        if name is None:
            return False
        if name.rsplit(".", 1)[-1] in self.web.names:
            return True
        return (self._qualify(node) or "") in self.web.objects


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


def _chain(node: ast.AST) -> tuple[str, list[str], list[ast.Call]] | None:
    """`self.request.tenant.id` -> ("self", ["request", "tenant", "id"], []); calls along
    the way are kept (`current_tenant.get()`)."""
    parts: list[str] = []
    calls: list[ast.Call] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            calls.append(node)
            node = node.func
        elif isinstance(node, ast.Name):
            parts.reverse()
            calls.reverse()
            return node.id, parts, calls
        else:
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
