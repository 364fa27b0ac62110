"""Per-file function facts and the project's call graph across modules.

The catalog pass records, for every Python file it parses (tenantlint.discover.functions),
a `ModuleFunctions` fact: each module-level function and each method of a module-level
class (`FunctionFact`), the classes with their bases qualified through the file's
imports, and the calls each function makes (`CallFact`), qualified through imports,
`self`/`cls` and local instances (`repo = Repo(s); repo.read()`). Facts are symbolic:
they name what the call goes through, not the function it runs, so a file's facts do
not depend on any other file and are cached with it.

A call is resolved against the whole project (`Symbols`): a function defined under that
qualified name, a method found on the class or the nearest base across files, a class
re-exported by a package (`from app.orm import Agent`). What cannot be resolved is not a
call into the project.

Facts are named tuples (compact to cache and to send between processes).

API (small on purpose):

- `call_target(call, qualify, owner, me, value_of) -> CallFact | None`: one `ast.Call`.
- `Symbols.of(modules)`: defined functions and classes of these facts;
  `symbols.resolve(fact) -> (function, receiver class, bound) | None`.
- `CallGraph(modules)`: `callees(function)`, `callers(function)`, `called()` (every
  resolved callee); module-level statements call from `"<module>"`-scoped names
  (`app.views.<module>`).
"""
from __future__ import annotations

import ast
from sys import intern
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

MODULE_SCOPE = "<module>"  # the caller name of a module's top-level statements: `pkg.mod.<module>`


class CallFact(NamedTuple):
    """What one call goes through. `kind`:
    - "function": `target` is the dotted name called (`helpers.read` -> `app.helpers.read`);
    - "method": `self.attr(...)`/`cls.attr(...)` inside a method of class `target`;
    - "member": `target.attr(...)`, `target` a class, a module, or (with `instance`) a
      class of which an instance is made there (`Repo(s).read()`, `repo = Repo(s)`);
    - "attr": on an instance of class `target` that a parameter is annotated with, or
      through its attributes: `attr` is the dotted path (`server.read()` with `server:
      SyncServer` -> `read`; `server.agents.list()` and `self.agents.list()` ->
      `agents.list`), resolved through the classes' attribute types;
    - "super": `super().attr(...)` in a method of class `target`.
    Only the project call graph (`Symbols`, which has attribute types) resolves "attr",
    "super", module-level instances (`manager = Manager()`, `manager.list()`) and what a
    function annotated to return a class returns (`client = await get_client()`,
    `client.get()`): summaries judge calls as they did."""

    kind: str
    target: str
    attr: str = ""
    instance: bool = False


class FunctionFact(NamedTuple):
    name: str  # qualified: `app.models.Dashboard.get_by_id`, `app.queries.widgets_base`
    owner: str  # the qualified class of a method, "" for a module-level function
    line: int  # the `def` line .. the last line of the body (0: unknown, to the end of the file)
    end_line: int
    params: tuple[str, ...]  # positional parameters, `self`/`cls` left out
    optional: tuple[str, ...]  # parameters defaulting to None that the body tests or passes on
    returns: bool  # has a `return <value>` (nested definitions left out)
    # May have a summary by its shape alone: `optional`, a parameter narrowed like a query,
    # `**kwargs` turned into filters, or a returned value (what it mentions is judged later).
    shaped: bool
    is_classmethod: bool  # `@classmethod`: its first parameter is the class
    calls: tuple[CallFact, ...] = ()  # distinct, in reading order (nested functions' calls included)
    returns_type: str = ""  # the qualified class its return annotation names (`-> RedisClient`)


class ModuleFunctions(NamedTuple):
    """The function facts of one file (a catalog fact, cached with the file)."""

    path: str
    module: str
    functions: tuple[FunctionFact, ...] = ()
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (qualified class, qualified bases), in file order
    calls: tuple[CallFact, ...] = ()  # calls of the module's top-level statements
    renamed: tuple[tuple[str, str], ...] = ()  # (local name, imported name) of imports under another name
    # (qualified class, attribute, qualified type): class-level annotations (`agents: AgentManager`)
    # and what `__init__` assigns (`self.agents = AgentManager()`, `self.agents: AgentManager = ...`);
    # (module, name, qualified type) of module-level instances (`agents = AgentManager()`)
    attributes: tuple[tuple[str, str, str], ...] = ()


def call_target(call: ast.Call, qualify: Callable[[ast.AST], str | None], owner: str, me: str | None,
                value_of: Callable[[ast.expr], ast.expr], annotated: Mapping[str, str] | None = None) \
        -> CallFact | None:
    """What `call` goes through. `owner`/`me`: the class and the first parameter's name of
    the method the call is in; `value_of`: a local name's assigned value; `annotated`:
    parameters annotated with a class (name -> qualified class), when attribute paths
    through them are wanted ("attr" facts)."""
    func = call.func
    if isinstance(func, ast.Name):
        name = qualify(func)
        return CallFact("function", intern(name)) if name else None
    if not isinstance(func, ast.Attribute):
        return None
    base, attr = func.value, func.attr
    if isinstance(base, ast.Name) and me and base.id == me and owner:
        return CallFact("method", owner, intern(attr))
    if annotated is not None:
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super" and owner:
            return CallFact("super", owner, intern(attr))
        through = _through_instance(base, owner, me, annotated)
        if through is not None:
            target, path = through
            return CallFact("attr", intern(target), intern(f"{path}.{attr}" if path else attr))
    instance = False
    if isinstance(base, ast.Name):
        value = value_of(base)
        if annotated is not None and isinstance(value, ast.Await):
            value = value.value  # `client = await get_client()`
        if isinstance(value, ast.Call) and value is not base:
            base, instance = value.func, True
    elif isinstance(base, ast.Call):
        base, instance = base.func, True
    if not isinstance(base, (ast.Name, ast.Attribute)):
        return None
    target = qualify(base)
    # Interned: the same names recur through a file, and its facts are pickled once per file.
    return CallFact("member", intern(target), intern(attr), instance) if target else None


def _through_instance(base: ast.expr, owner: str, me: str | None, annotated: Mapping[str, str]) \
        -> tuple[str, str] | None:
    """(class, "") for an annotated parameter (`server.read()`), (class, attribute path)
    for attributes of one or of `self` (`server.agents.list()`)."""
    path: list[str] = []
    while isinstance(base, ast.Attribute):
        path.append(base.attr)
        base = base.value
    if not isinstance(base, ast.Name):
        return None
    if me and base.id == me and owner:
        cls = owner
    else:
        cls = annotated.get(base.id)
    if cls is None or not path and cls == owner:
        return None
    return cls, ".".join(reversed(path))


def find_class(qualified: str, classes: Mapping[str, tuple[str, ...]], unique: Mapping[str, tuple[str, ...]]) \
        -> str | None:
    """The known class a dotted name stands for: itself, or the one class of that name
    under the package it is imported through (a re-export), or the one whose module ends
    with the imported one (`rooted`), or the only one of that name."""
    if qualified in classes:
        return qualified
    if "." not in qualified:
        return None
    package, name = qualified.rsplit(".", 1)
    candidates = unique.get(name, ())
    under = [c for c in candidates if c.startswith(package + ".")]
    if len(under) == 1:
        return under[0]
    found = rooted(qualified, candidates)
    if found:
        return found
    return candidates[0] if len(candidates) == 1 and _same_package(qualified, candidates[0]) else None


def find_method(owner: str, name: str, defined, classes: Mapping[str, tuple[str, ...]]) -> str | None:
    """The qualified function `owner.name` runs: its own, else the nearest base's."""
    for cls in lineage(owner, classes):
        candidate = f"{cls}.{name}"
        if candidate in defined:
            return candidate
    return None


def lineage(owner: str, classes: Mapping[str, tuple[str, ...]]) -> Iterator[str]:
    """`owner` and its bases, nearest first (breadth-first: the MRO of the usual
    single-inheritance and mixin hierarchies), each once."""
    seen, todo, depth = {owner}, [owner], 0
    while todo and depth < 200:
        depth += 1
        cls = todo.pop(0)
        yield cls
        for base in classes.get(cls, ()):
            if base not in seen:
                seen.add(base)
                todo.append(base)


def resolve(fact: CallFact, symbols) -> tuple[str, str, bool] | None:
    """(qualified function, receiver class or "", bound) a call runs, through `symbols`
    (anything with `defined`, `cls(name)` and `method(owner, name)`), or None."""
    if fact.kind == "function":
        return (fact.target, "", False) if fact.target in symbols.defined else None
    if fact.kind == "method":
        found = symbols.method(fact.target, fact.attr)
        return (found, fact.target, True) if found else None
    if fact.kind == "attr":
        return _through_attributes(fact, symbols)
    if fact.kind == "super":
        if getattr(symbols, "attributes", None) is None:
            return None
        found = next((m for b in symbols.classes.get(fact.target, ()) if (m := symbols.method(b, fact.attr))), None)
        return (found, fact.target, True) if found else None
    known = symbols.cls(fact.target)
    if known is None and getattr(symbols, "attributes", None) is not None:
        made = symbols.returns.get(fact.target) if fact.instance else None  # `client = get_client()`
        known = symbols.cls(made) if made else _module_instance(fact.target, symbols)  # `manager = Manager()`
    if known is not None:
        found = symbols.method(known, fact.attr)
        return (found, known, True) if found else None
    name = f"{fact.target}.{fact.attr}"  # a function of an imported module
    return (name, "", False) if not fact.instance and name in symbols.defined else None


def _through_attributes(fact: CallFact, symbols) -> tuple[str, str, bool] | None:
    """`server.agents.list()`: each attribute's type on the class (or a base) it is read
    from, then the method of the last one. Symbols without attribute types resolve none."""
    types = getattr(symbols, "attributes", None)
    if types is None:
        return None
    *path, method = fact.attr.split(".")
    owner = _attribute_class(symbols.cls(fact.target), path, symbols)
    found = symbols.method(owner, method) if owner is not None else None
    return (found, owner, True) if found else None


def _attribute_class(owner: str | None, path, symbols) -> str | None:
    """The class of `owner`'s attribute path (each attribute's type looked up on the
    class or its bases), None when one is unknown."""
    for name in path:
        if owner is None:
            return None
        found = next((symbols.attributes[c][name] for c in lineage(owner, symbols.classes)
                      if name in symbols.attributes.get(c, ())), None)
        owner = symbols.cls(found) if found else None
    return owner


def _module_instance(target: str, symbols) -> str | None:
    """`app.routes.manager` (`.sub`...): the class of a module-level instance (and of its
    attributes), from the module's attribute types."""
    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        kind = symbols.attributes.get(module, {}).get(parts[i])
        if kind is not None:
            return _attribute_class(symbols.cls(kind), parts[i + 1:], symbols)
    return None


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Symbols:
    """The project's functions and classes, as the facts define them."""

    defined: frozenset[str] = frozenset()
    classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # qualified class -> qualified bases
    unique: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # short name -> qualified classes
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # class -> attribute -> type
    returns: Mapping[str, str] = field(default_factory=dict)  # function -> the class its annotation returns

    @classmethod
    def of(cls, modules: Iterable[ModuleFunctions]) -> "Symbols":
        defined: set[str] = set()
        classes: dict[str, tuple[str, ...]] = {}
        attributes: dict[str, dict[str, str]] = {}
        returns: dict[str, str] = {}
        for mod in modules:
            defined.update(f.name for f in mod.functions)
            returns.update((f.name, f.returns_type) for f in mod.functions if f.returns_type)
            classes.update(mod.classes)
            for owner, name, kind in mod.attributes:
                attributes.setdefault(owner, {}).setdefault(name, kind)
        return cls(frozenset(defined), *reexported(classes), attributes, returns)

    def cls(self, qualified: str) -> str | None:
        return find_class(qualified, self.classes, self.unique)

    def method(self, owner: str, name: str) -> str | None:
        return find_method(owner, name, self.defined, self.classes)

    def resolve(self, fact: CallFact) -> tuple[str, str, bool] | None:
        return resolve(fact, self)


def reexported(classes: Mapping[str, tuple[str, ...]]) -> tuple[dict, dict]:
    """(classes with bases imported through a re-exporting package pointed at the one
    class of that name, short name -> qualified classes)."""
    by_short: dict[str, list[str]] = {}
    for qual in classes:
        by_short.setdefault(short(qual), []).append(qual)
    fixed_classes = {}
    for qual, bases in classes.items():
        fixed = []
        for base in bases:
            if base not in classes:
                candidates = by_short.get(short(base), ())
                if len(candidates) == 1 and _same_package(base, candidates[0]):
                    base = candidates[0]  # re-exported: `from app.models import Base`
                else:
                    base = rooted(base, candidates) or base
            fixed.append(base)
        fixed_classes[qual] = tuple(fixed)
    return fixed_classes, {n: tuple(sorted(qs)) for n, qs in by_short.items()}


def rooted(imported: str, candidates) -> str | None:
    """The one class among `candidates` (of the same short name) whose module ends with
    the imported one: the project is scanned from above its import root
    (`data_manager.api.TaskListAPI` is `label_studio.data_manager.api.TaskListAPI`)."""
    found = [c for c in candidates if c.endswith("." + imported)]
    return found[0] if len(found) == 1 else None


def _same_package(imported: str, defined: str) -> bool:
    """Can `imported` (`core.Base`, `app.models.Base`) name the project class `defined`
    (`label_studio.core.viewsets.Base`, `app.models.base.Base`)? Its package's dotted
    parts must run, in order, inside the definition's module path: a class imported from
    another library (`rest_framework.viewsets.ModelViewSet`) is never the project's class
    of the same name."""
    package = imported.split(".")[:-1]
    module = defined.split(".")[:-1]
    if not package:
        return True  # a bare name: nothing says where it comes from
    return any(module[i:i + len(package)] == package for i in range(len(module) - len(package) + 1))


class CallGraph:
    """Who calls whom across the project's modules (calls that resolve to a project
    function; module-level statements call from `module.<module>`). A function's calls
    are resolved when first asked for: reach follows only what entry points reach, and a
    warm one-file run would otherwise resolve every call of the project."""

    def __init__(self, modules: Iterable[ModuleFunctions], symbols: Symbols | None = None) -> None:
        modules = list(modules)
        self.symbols = symbols if symbols is not None else Symbols.of(modules)
        self._calls: dict[str, list[CallFact]] = {}  # caller -> its call facts
        for mod in modules:
            scopes = [(f.name, f.calls) for f in mod.functions]
            scopes.append((f"{mod.module}.{MODULE_SCOPE}" if mod.module else MODULE_SCOPE, mod.calls))
            for caller, calls in scopes:
                self._calls.setdefault(caller, []).extend(calls)
        self._callees: dict[str, frozenset[str]] = {}
        self._callers: dict[str, set[str]] | None = None

    def callees(self, function: str) -> frozenset[str]:
        found = self._callees.get(function)
        if found is None:
            resolved = (self.symbols.resolve(fact) for fact in self._calls.get(function, ()))
            found = self._callees[function] = frozenset(r[0] for r in resolved if r is not None)
        return found

    def callers(self, function: str) -> frozenset[str]:
        return frozenset(self._all_callers().get(function, ()))

    def called(self) -> frozenset[str]:
        return frozenset(self._all_callers())

    def _all_callers(self) -> dict[str, set[str]]:
        if self._callers is None:
            self._callers = {}
            for caller in self._calls:
                for callee in self.callees(caller):
                    self._callers.setdefault(callee, set()).add(caller)
        return self._callers
