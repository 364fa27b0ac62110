"""Where a finding's code runs: `request` (a Django view, a DRF viewset, a Flask /
FastAPI / Starlette route, or a function of the same module one of them calls), `task`
(a Celery / RQ / Dramatiq task, a scheduler job, a management command, a click / typer
command, or what they call), else `unknown`. Entry points are read from each file's tree;
what they call in the same module is followed here, what they call in other modules
through the project call graph, once per scan (`project_reach`)."""
from __future__ import annotations

import ast
from typing import Callable, Iterable, Mapping

from tenantlint.callgraph import lineage
from tenantlint.names import dotted

REQUEST, TASK, UNKNOWN = "request", "task", "unknown"
# Decorator names (last dotted part) that make a function an HTTP endpoint.
_ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "api_route", "websocket",
                               "api_view", "action", "view_config", "require_http_methods", "login_required",
                               "permission_required", "require_GET", "require_POST", "csrf_exempt"})
_TASK_DECORATORS = frozenset({"task", "shared_task", "periodic_task", "job", "actor", "scheduled_job",
                              "command", "group", "callback", "cron", "interval"})
# Class names ending so are views (not "Mixin": ORM models mix those in too).
_VIEW_BASES = ("View", "ViewSet", "APIView", "Resource", "Endpoint", "HTTPEndpoint")
_TASK_BASES = ("BaseCommand", "Task")
# HTTP verbs are routes as a router's or app's method (`@router.patch(...)`) or bare with a
# path (Litestar's `@get("/items")`), never a mock (`@patch("x.y")`, `@mock.patch.object(...)`).
_VERBS = frozenset({"get", "post", "put", "patch", "delete"})
_MOCKS = frozenset({"mock", "patch", "unittest", "mocker"})
# Parameters a framework injects, not the client: FastAPI dependencies, the request itself.
_INJECTED = frozenset({"Depends", "Security"})
_NOT_INPUT = frozenset({"self", "cls", "request", "req", "session", "db", "background_tasks", "response"})


def _last(node) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    name = dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return name.rsplit(".", 1)[-1] if name else ""


def _decorator_names(fn) -> set[str]:
    names = set()
    for decorator in fn.decorator_list:
        last = _last(decorator)
        if last in _VERBS:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            receiver = dotted(func.value) if isinstance(func, ast.Attribute) else None
            if receiver is None and not _path_given(decorator) or receiver and set(receiver.split(".")) & _MOCKS:
                continue
        names.add(last)
    return names


def _path_given(decorator) -> bool:
    """A bare verb decorator that is a route (Litestar's `@get("/items")`, `@post(path=...)`),
    not a mock (`@patch("app.flags.flag_set")`)."""
    if not isinstance(decorator, ast.Call):
        return True
    first = decorator.args[0] if decorator.args else None
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("/") or \
        any(k.arg == "path" for k in decorator.keywords)


def kind_of(fn, owner: ast.ClassDef | None) -> str | None:
    """`request` / `task` for an entry point (`owner`: the class of a method), else None."""
    names = _decorator_names(fn)
    if names & _TASK_DECORATORS and not names & {"get", "post", "put", "patch", "delete", "route"}:
        return TASK
    if names & _ROUTE_DECORATORS:
        return REQUEST
    kind = class_kind(owner) if owner is not None else None
    if kind:
        return kind
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    if owner is None and params[:1] == ["request"] and not fn.name.startswith("test"):
        return REQUEST  # a Django function view (`test_*(request)`: a test with pytest's fixture)
    return None


def class_kind(owner: ast.ClassDef) -> str | None:
    """`request` for a view class, `task` for a command or task class, by its bases' names."""
    bases = [_last(b) for b in owner.bases]
    if any(b.endswith(_TASK_BASES) for b in bases):
        return TASK
    if any(b.endswith(_VIEW_BASES) for b in bases):
        return REQUEST
    return None


def entry_points(module: ast.Module, module_name: str) -> tuple[tuple[str, str], ...]:
    """(qualified function, `request` / `task`) of a module's entry points: module-level
    functions and methods of module-level classes (`app.views.Things.list`); and view,
    command and task classes themselves (`app.views.Things`)."""
    out = []
    prefix = f"{module_name}." if module_name else ""
    for fn, owner in _definitions(module):
        kind = kind_of(fn, owner)
        if kind:
            out.append((f"{prefix}{owner.name}.{fn.name}" if owner is not None else f"{prefix}{fn.name}", kind))
    for node in module.body:
        kind = class_kind(node) if isinstance(node, ast.ClassDef) else None
        if kind:
            out.append((f"{prefix}{node.name}", kind))
    return tuple(out)


def project_reach(entries: Mapping[str, str], callees: Callable[[str], Iterable[str]],
                  classes: Mapping[str, tuple[str, ...]] | None = None, defined: Iterable[str] = ()) \
        -> dict[str, str]:
    """Qualified function -> `request` / `task`: the entry points and every project
    function they call, directly or not, across modules (`callees`: the project call
    graph). A function reached from both is `request`. With `classes` (qualified class
    -> bases), a class deriving from a view or task class of the project, in any module,
    is one too (`class S3StorageDetail(StorageDetailAPI)`), and so are its methods
    (among `defined`)."""
    entries = dict(entries)
    if classes:
        derived = {}
        for cls in classes:
            if cls not in entries:
                kind = next((entries[c] for c in lineage(cls, classes) if c in entries and c in classes), None)
                if kind:
                    derived[cls] = kind
        entries.update(derived)
        for name in defined:
            kind = derived.get(name.rpartition(".")[0])
            if kind and name not in entries:
                entries[name] = kind
    out: dict[str, str] = {}
    for wanted in (REQUEST, TASK):
        todo = [name for name, kind in entries.items() if kind == wanted and name not in out]
        for name in todo:
            out[name] = wanted
        while todo:
            for callee in callees(todo.pop()):
                if callee not in out:
                    out[callee] = wanted
                    todo.append(callee)
    return out


def _definitions(module: ast.Module):
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, None
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield stmt, node


class Reach:
    """Per-line reach of one module: its own entry points and what they call in the
    module, and (`project`, from the catalog pass: tenantlint.reach.project_reach) the
    functions entry points of other modules reach through the project call graph."""

    def __init__(self, module: ast.Module | None, module_name: str = "",
                 project: Mapping[str, str] | None = None) -> None:
        self.spans: list[tuple[int, int, str]] = []  # (start, end, reach) of functions with one
        if module is None:
            return
        project = project or {}
        prefix = f"{module_name}." if module_name else ""
        functions: dict[str, list] = {}  # name -> defs (module functions and methods)
        kinds: dict[int, str] = {}
        for fn, owner in _definitions(module):
            functions.setdefault(fn.name, []).append(fn)
            kind = kind_of(fn, owner) or \
                project.get(f"{prefix}{owner.name}.{fn.name}" if owner is not None else f"{prefix}{fn.name}") or \
                (project.get(f"{prefix}{owner.name}") if owner is not None else None)
            if kind:
                kinds[id(fn)] = kind
        # What an entry point calls in the module runs there too (request outranks task).
        for wanted in (REQUEST, TASK):
            todo = [fn for fns in functions.values() for fn in fns if kinds.get(id(fn)) == wanted]
            seen = {id(fn) for fn in todo}
            while todo:
                fn = todo.pop()
                for call in ast.walk(fn):
                    if not isinstance(call, ast.Call):
                        continue
                    for callee in functions.get(_last(call.func), ()):
                        if id(callee) not in seen and kinds.get(id(callee)) != REQUEST:
                            seen.add(id(callee))
                            kinds[id(callee)] = wanted
                            todo.append(callee)
        for fns in functions.values():
            for fn in fns:
                if id(fn) in kinds:
                    self.spans.append((fn.lineno, fn.end_lineno or fn.lineno, kinds[id(fn)]))
        # A view's class body (its `queryset`, `serializer_class`) serves its requests.
        for node in module.body:
            if isinstance(node, ast.ClassDef):
                kind = class_kind(node) or project.get(f"{prefix}{node.name}")
                if kind:
                    self.spans.append((node.lineno, node.end_lineno or node.lineno, kind))

    def at(self, line: int) -> str:
        best, size = UNKNOWN, None
        for start, end, kind in self.spans:
            if start <= line <= end and (size is None or end - start < size):
                best, size = kind, end - start
        return best


def request_parameters(fn, owner: ast.ClassDef | None) -> frozenset[str]:
    """The parameters of a request entry point that carry what the client sent: path and
    query parameters, body models (a FastAPI `Depends()`/`Security()` dependency, the
    request object, `self` and a session are the framework's, not the client's)."""
    if kind_of(fn, owner) != REQUEST:
        return frozenset()
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = set()
    for arg, default in [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]:
        if arg.arg in _NOT_INPUT or _injected(default) or _injected(arg.annotation):
            continue
        out.add(arg.arg)
    return frozenset(out)


def _injected(node) -> bool:
    """`Depends(get_user)`, `Annotated[User, Depends(...)]`, `Security(...)`."""
    return node is not None and any(isinstance(n, ast.Call) and _last(n) in _INJECTED for n in ast.walk(node))
