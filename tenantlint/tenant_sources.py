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
  `Query()/Header()/Cookie()/Body()/Form()`, what a DRF serializer read from the client
  (`serializer.validated_data`, `.initial_data`). Path parameters of a route are not
  (a permission layer usually checks them).

Both follow a value through local variables (`tenantlint/local_values.py`: a name is
request input when any assignment to it is, the tenant only when every one is),
subscripts and `.get()`,
f-strings and concatenation, casts (`int(...)`, `UUID(...)`), and calls of helpers
defined in the same module that pass their argument through or read the request
themselves (`def store_param(): return request.args["store"]`).
"""
from __future__ import annotations

import ast
from typing import Iterable, Sequence

from tenantlint.local_values import FunctionValues
from tenantlint.names import ImportMap, dotted, matches_name
from tenantlint.request_packs import RequestKnowledge, request_knowledge

_LOCAL_FACTORIES = ("threading.local", "werkzeug.local.Local", "local", "Local")
_CONTEXTVAR = ("contextvars.ContextVar", "ContextVar")

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
# What a DRF serializer read from the client (`serializer.validated_data["workspace"]`).
_SERIALIZER_DATA = frozenset({"validated_data", "initial_data"})


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
                if current.attr in _SERIALIZER_DATA and _is_serializer(current.value):
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


def _is_serializer(node: ast.AST) -> bool:
    """A receiver named as a DRF serializer: `serializer`, `ser`, `self.input_serializer`."""
    name = (dotted(node) or "").rsplit(".", 1)[-1].lower()
    return "serializer" in name or name == "ser"


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
