"""Function facts of one file (tenantlint.callgraph.ModuleFunctions), recorded by the
catalog pass on the tree it already parsed: the project's functions and methods, their
parameters and shape (what the summary pass needs to pick the few functions worth
following, tenantlint.orm.summarize), classes and bases, and the calls each makes.
Cached with the file like every other catalog fact, so the summary pass and the call
graph read no file that did not change. Kept packed (`PackedFunctions`, one pickle per
file): a warm run whose summaries are cached loads the catalog's facts without
rebuilding some 140,000 small tuples it does not need (`function_facts` unpacks a file's
facts on first use)."""
from __future__ import annotations

import ast
import pickle
from collections import deque
from typing import Iterable, Iterator, Mapping, NamedTuple

from tenantlint.callgraph import CallFact, FunctionFact, ModuleFunctions, call_target
from tenantlint.caller_trust import CallSite, called_name
from tenantlint.discover.call_sites import Describer
from tenantlint.config import Settings
from tenantlint.names import ImportMap, annotation_class, import_map
from tenantlint.orm.checker import _self_name
from tenantlint.orm.common import call_name
from tenantlint.orm.pyast import top_classes
from tenantlint.orm.shapes import filters_by_keywords, parameters, query_params, returns_value, tested_names
from tenantlint.reach import request_parameters

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


class FunctionFacts:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    gaps = False  # a file that cannot be parsed has no functions (the per-file pass reports it)
    wants_source = True

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        # A function, a call or a class: what a file without any of them defines (names,
        # constants) is no function fact, and it is not parsed for none.
        return b"(" in data or b"class" in data

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings, source: str = "") \
            -> Iterable["PackedFunctions | PackedCallSites"]:
        columns = frozenset(settings.tenant_columns)
        sites: dict[str, list[CallSite]] = {}
        facts = module_functions(tree, path, module, source, sites,
                                 columns | frozenset(c[:-3] for c in columns if c.endswith("_id")))
        out = [PackedFunctions(path, pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))]
        if sites:
            out.append(PackedCallSites(path, pickle.dumps({k: tuple(v) for k, v in sites.items() if v},
                                                          protocol=pickle.HIGHEST_PROTOCOL),
                                       frozenset(called_name(s.target) for v in sites.values() for s in v)))
        return out



class PackedFunctions(NamedTuple):
    """A file's ModuleFunctions, pickled (the catalog fact that is cached and sent)."""

    path: str
    data: bytes

    def unpack(self) -> ModuleFunctions:
        return pickle.loads(self.data)  # written by `discover` above, cached under the cache's HMAC


class PackedCallSites(NamedTuple):
    """A file's call sites (tenantlint/discover/call_sites.py), pickled: caller -> sites."""

    path: str
    data: bytes
    names: frozenset = frozenset()  # the last names of what its sites call (read unpacked)

    def unpack(self) -> dict[str, tuple[CallSite, ...]]:
        return pickle.loads(self.data)  # written by `discover` above, cached under the cache's HMAC


class FunctionFactsByPath(Mapping):
    """relative path -> ModuleFunctions, unpacked on first use."""

    def __init__(self, facts: Iterable) -> None:
        self._packed = {f.path: f for f in facts if isinstance(f, PackedFunctions)}
        self._unpacked: dict[str, ModuleFunctions] = {}

    def __getitem__(self, rel: str) -> ModuleFunctions:
        found = self._unpacked.get(rel)
        if found is None:
            found = self._unpacked[rel] = self._packed[rel].unpack()
        return found

    def __contains__(self, rel) -> bool:
        return rel in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)


def function_facts(facts: Iterable) -> FunctionFactsByPath:
    """The function facts among a catalog pass's facts, by relative path."""
    return FunctionFactsByPath(facts)


def module_functions(tree: ast.Module, path: str, module: str, source: str = "",
                     sites: dict | None = None, words: frozenset[str] = frozenset()) -> ModuleFunctions:
    """The facts of one parsed file (`source`: its text, for the shape tests that read it;
    without it every function with parameters or a return counts as shaped). `sites`:
    filled with each caller's call sites (`words`: the tenant columns and relations)."""
    record = (sites, words) if sites is not None else None
    imports = import_map(tree, module)
    lines = source.splitlines(keepends=True) if source else None
    functions: list[FunctionFact] = []
    unnamed: list[ast.stmt] = []  # functions of a file with no module name: only their calls count
    for stmt in tree.body:
        if isinstance(stmt, _DEFS):
            if module:
                functions.append(_function(f"{module}.{stmt.name}", "", stmt, imports, None, lines, record))
            else:
                unnamed.extend(stmt.body)
    classes = []
    attributes: list[tuple[str, str, str]] = []
    for cls in top_classes(tree):
        qual = f"{module}.{cls.name}" if module else cls.name
        bases = tuple(q for q in (imports.qualify(b.value if isinstance(b, ast.Subscript) else b)
                                  for b in cls.bases) if q)
        classes.append((qual, bases))
        for stmt in cls.body:
            if isinstance(stmt, _DEFS):
                functions.append(_function(f"{qual}.{stmt.name}", qual, stmt, imports, _self_name(stmt), lines,
                                           record, cls))
        attributes.extend((qual, name, kind) for name, kind in _attribute_types(cls, imports.qualify))
    if module:  # module-level instances: `manager = Manager()`, `manager: Manager = make()`
        attributes.extend((module, name, kind) for name, kind in _instances(tree.body, imports.qualify))
    top = [s for s in tree.body if not isinstance(s, (*_DEFS, ast.ClassDef))]
    scope = f"{module}.<module>" if module else "<module>"
    calls = calls_in(unnamed, imports.qualify, "", None, sites=_recorder(record, scope)) + \
        calls_in(top, imports.qualify, "", None, sites=_recorder(record, scope))
    renamed = tuple((local, full.rsplit(".", 1)[-1]) for local, full in imports.aliases.items()
                    if full.rsplit(".", 1)[-1] != local)
    return ModuleFunctions(path, module, tuple(functions), tuple(classes), tuple(dict.fromkeys(calls)), renamed,
                           tuple(dict.fromkeys(attributes)))


def _annotated(node, qualify) -> dict[str, str]:
    """A function's parameters annotated with a class: name -> qualified class."""
    args = node.args
    out = {}
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        kind = annotation_class(arg.annotation, qualify) if arg.annotation is not None else None
        if kind:
            out[arg.arg] = kind
    return out


def _instances(body, qualify) -> Iterator[tuple[str, str]]:
    """(name, qualified class) of the module-level names assigned an instance."""
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            kind = _made(stmt.value, qualify, {})
            if kind:
                yield stmt.targets[0].id, kind
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            kind = annotation_class(stmt.annotation, qualify)
            if kind:
                yield stmt.target.id, kind


def _made(value, qualify, params: dict) -> str | None:
    """The qualified class (or callable) whose result a value is: `Manager(...)`,
    `manager or Manager()`, a parameter annotated with a class."""
    if isinstance(value, ast.BoolOp):
        return next((k for v in value.values if (k := _made(v, qualify, params))), None)
    if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
        kind = qualify(value.func)
    elif isinstance(value, ast.Name):
        kind = params.get(value.id)
    else:
        return None
    return kind if kind and "." in kind else None


def _attribute_types(cls: ast.ClassDef, qualify) -> Iterator[tuple[str, str]]:
    """(attribute, qualified type) of a class: its annotations (`agents: AgentManager`) and
    what `__init__` sets (`self.agents = AgentManager(...)`, `self.agents: AgentManager`,
    `self.agents = agents` of a parameter `agents: AgentManager`)."""
    for stmt in cls.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            kind = annotation_class(stmt.annotation, qualify)
            if kind:
                yield stmt.target.id, kind
        elif isinstance(stmt, _DEFS) and stmt.name == "__init__":
            me = _self_name(stmt)
            params = _annotated(stmt, qualify)
            for node in ast.walk(stmt):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target, kind = node.targets[0], _made(node.value, qualify, params)
                elif isinstance(node, ast.AnnAssign):
                    target, kind = node.target, annotation_class(node.annotation, qualify)
                else:
                    continue
                if kind and "." in kind and isinstance(target, ast.Attribute) and \
                        isinstance(target.value, ast.Name) and target.value.id == me:
                    yield target.attr, kind


def _recorder(record, caller: str, params=frozenset(), inputs=frozenset()):
    """A Describer filling `record`'s sites of `caller`, or None when not recording."""
    if record is None:
        return None
    sites, words = record
    return sites.setdefault(caller, []), params, inputs, words


def _function(name: str, owner: str, node, imports: ImportMap, me: str | None, lines, record=None,
              cls: ast.ClassDef | None = None) -> FunctionFact:
    params, _kwonly, optional = parameters(node)
    if optional:
        tested = tested_names(node)
        optional = [p for p in optional if p in tested]
    code = "".join(lines[node.lineno - 1:node.end_lineno]) if lines is not None else None
    returns = returns_value(node)
    if code is None:
        shaped = bool(optional or params or node.args.kwarg or returns)
    else:
        shaped = bool(optional or returns or query_params(node, code, params) or
                      node.args.kwarg is not None and filters_by_keywords(code, node.args.kwarg.arg))
    is_classmethod = me is not None and any(call_name(d) == "classmethod" for d in node.decorator_list)
    return FunctionFact(name, owner, node.lineno, node.end_lineno or 0, params,
                        tuple(optional), returns, shaped, is_classmethod,
                        calls_in(node.body, imports.qualify, owner, me, _annotated(node, imports.qualify),
                                 _recorder(record, name, _names(node, me), request_parameters(node, cls))),
                        annotation_class(node.returns, imports.qualify) or "" if node.returns is not None else "")


def _names(node, me: str | None) -> frozenset[str]:
    args = node.args
    return frozenset(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg != me)


def calls_in(body, qualify, owner: str, me: str | None, annotated: dict | None = None, sites=None) \
        -> tuple[CallFact, ...]:
    """The distinct calls of a body, nested definitions included, in the order the
    statements are walked (breadth-first in each, as `ast.walk`): a local name stands for
    the last value assigned to it before the call in that order; calls through `self`'s
    attributes and annotated parameters (`annotated`: name -> class) are "attr" facts.
    `sites`: (list, parameters, route inputs, tenant words) to record each call site in
    (tenantlint/discover/call_sites.py)."""
    annotated = annotated if annotated is not None else {}
    values: dict[str, ast.expr] = {}
    out: dict[CallFact, None] = {}
    recorded, describer = (sites[0], Describer(*sites[1:], values)) if sites is not None else (None, None)

    def value_of(node):
        return values.get(node.id, node) if isinstance(node, ast.Name) else node

    AST, skip, Assign, Call, Name = ast.AST, _NO_CALLS, ast.Assign, ast.Call, ast.Name
    for stmt in body:
        # `ast.walk`'s order (breadth-first, fields in order), inline: leaves that hold no
        # call or assignment are not queued.
        todo = deque([stmt])
        pop, append = todo.popleft, todo.append
        while todo:
            node = pop()
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, AST) and type(item) not in skip:
                            append(item)
                elif isinstance(value, AST) and type(value) not in skip:
                    append(value)
            kind = type(node)
            if kind is Assign:
                if len(node.targets) == 1 and type(node.targets[0]) is Name:
                    values[node.targets[0].id] = node.value
            elif kind is Call:
                fact = call_target(node, qualify, owner, me, value_of, annotated)
                if fact is not None:
                    out[fact] = None
                if recorded is not None:
                    recorded.extend(describer.sites(node, fact, qualify))
    return tuple(out)


# Nodes that hold no call and no assignment below them (or are leaves).
_NO_CALLS = frozenset({ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue,
                       ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.alias,
                       *(c for c in vars(ast).values() if isinstance(c, type) and
                         issubclass(c, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)))})


DISCOVERERS: tuple = (FunctionFacts(),)
