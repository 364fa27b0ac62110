"""Function summaries: what a project function does with tenant models, as its callers
see it (SPEC "Across functions"). Computed in the catalog pass (tenantlint.orm.summarize)
and carried by the catalog, so a one-file run judges calls into other files.

A call is resolved to a summary through the calling file's imports, `self`/`cls` in a
method, a local variable assigned a class instance (`repo = Repo(session)`), and the
classes' bases (method lookup through the hierarchy, across files). What cannot be
resolved is unknown: no summary, and the call is judged as before (never as scoped)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Mapping

from tenantlint.callgraph import call_target, find_class, find_method, resolve
from tenantlint.names import dotted

Models = frozenset  # of tenant model names


@dataclass(frozen=True)
class Summary:
    name: str  # qualified: `app.models.Dashboard.get_by_id`, `app.queries.widgets_base`
    module: str
    owner: str = ""  # qualified class of a method
    params: tuple[str, ...] = ()  # positional parameters, `self`/`cls` left out
    kwonly: tuple[str, ...] = ()
    # Rule 1/4: tenant models read unscoped whatever the arguments (TL202 for `bulk`).
    reads: frozenset[str] = frozenset()
    bulk: bool = False
    scoped_reads: frozenset[str] = frozenset()  # read, and scoped
    # Rule 2: parameter -> models read unscoped when it is omitted or None.
    optional: tuple[tuple[str, frozenset[str]], ...] = ()
    # Rule 2, `**kwargs` turned into filters: models scoped exactly when a tenant keyword is passed.
    kwargs: frozenset[str] = frozenset()
    # Rule 3: a builder returns an unexecuted query on `returns`; scoped in it: `returns_scoped`,
    # and for each parameter the models it scopes when given.
    returns: frozenset[str] | None = None
    returns_scoped: frozenset[str] = frozenset()
    returns_optional: tuple[tuple[str, frozenset[str]], ...] = ()
    returns_at: int = -1  # the query is this item of a returned tuple (`return query, conditions`)
    # Loaders: with every optional parameter given, each `return` hands back a row loaded
    # under tenant scope (`rows`: its models), and these (position, parameter) ids were
    # verified by that query, which left when nothing was found (SPEC "Indirect tenancy":
    # a helper whose summary returns scoped rows; an id a scoped query just verified).
    rows: frozenset[str] = frozenset()
    verifies: tuple[tuple[int, str], ...] = ()
    sibling: str = ""  # rule 4: the scoped accessor beside this unscoped one
    # A narrowing helper takes a query and returns it narrowed (`apply_access_predicate(query,
    # actor)`): (position, parameter, models it scopes).
    narrows: tuple[tuple[int, str, frozenset[str]], ...] = ()
    # ... computed with these parameters at their default (name, position, default's text):
    # a call giving another value gets no credit.
    narrow_defaults: tuple[tuple[str, int, str], ...] = ()
    # ... and parameters with no default it passes on to such a helper as they are: what
    # its tenant parameters scope holds only for calls giving them that value.
    assumes: tuple[tuple[str, int, str], ...] = ()

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def interesting(self) -> bool:
        """Does a call to it need judging at the call?"""
        return bool(self.optional or self.kwargs or self.returns is not None or self.sibling or self.narrows or
                    self.rows or self.verifies)


@dataclass(frozen=True)
class FunctionIndex:
    functions: Mapping[str, Summary] = field(default_factory=dict)  # only those interesting at calls
    defined: frozenset[str] = frozenset()  # every function and method of the summarized files
    classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # qualified class -> qualified bases
    called: frozenset[str] = frozenset()  # functions of `functions` some project code calls
    # A method of a class whose `cls` stands for several tenant models (a base model class)
    # -> the classes (short names) it is called through, "*" when one call's is unknown.
    receivers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # class short name -> the tenant models `cls` stands for in its classmethods
    # (the class itself and its subclasses that are tenant models).
    class_models: Mapping[str, frozenset[str]] = field(default_factory=dict)
    words: frozenset[str] = frozenset()  # names that make a file worth checking for calls
    # class short name -> the qualified classes of that name: a class imported through a
    # package that re-exports it (`from app.orm import Agent`) is the one under that package.
    unique: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def cls(self, qualified: str) -> str | None:
        return find_class(qualified, self.classes, self.unique)

    def method(self, owner: str, name: str) -> str | None:
        """The qualified function `owner.name` runs: its own, else the nearest base's."""
        return find_method(owner, name, self.defined, self.classes)


@dataclass(frozen=True)
class Target:
    summary: Summary
    receiver: str = ""  # the class the call goes through (`WidgetRepository(s).read`), if known
    bound: bool = False  # called on an instance or class: the first parameter is bound


def resolve_call(call: ast.Call, index: FunctionIndex, qualify: Callable[[ast.AST], str | None],
                 owner: str, me: str | None, value_of: Callable[[ast.expr], ast.expr]) -> Target | None:
    """The summarized function a call runs, if it can be told. `owner`/`me`: the class
    and the first parameter's name of the method the call is in; `value_of`: a local
    name's assigned value (`repo` -> `Repo(session)`)."""
    fact = call_target(call, qualify, owner, me, value_of)
    qualified = resolve(fact, index) if fact is not None else None
    if qualified is None:
        return None
    name, receiver, bound = qualified
    summary = index.functions.get(name)
    return Target(summary, receiver, bound) if summary is not None else None


def bound_params(call: ast.Call, summary: Summary, assumed_none: Callable[[ast.expr], bool]) \
        -> tuple[set[str], bool]:
    """(parameters a call gives a non-None value, whether `*args`/`**kwargs` hide some)."""
    given: set[str] = set()
    hidden = False
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            hidden = True
            break
        if i < len(summary.params) and not _none(arg, assumed_none):
            given.add(summary.params[i])
    for kw in call.keywords:
        if kw.arg is None:
            hidden = True
        elif not _none(kw.value, assumed_none):
            given.add(kw.arg)
    return given, hidden


def keywords_passed(call: ast.Call) -> set[str]:
    return {kw.arg for kw in call.keywords if kw.arg is not None}


def _none(node: ast.expr, assumed_none) -> bool:
    return isinstance(node, ast.Constant) and node.value is None or assumed_none(node)


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def dotted_or_none(node) -> str | None:
    return dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None


def defaults_of(node) -> dict[str, str]:
    """Parameter -> the dotted text or repr of its non-None default."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    out = {}
    for arg, default in pairs:
        if isinstance(default, (ast.Name, ast.Attribute)):
            text = dotted_or_none(default)
        elif isinstance(default, ast.Constant) and default.value is not None:
            text = repr(default.value)
        else:
            text = None
        if text:
            out[arg.arg] = text
    return out
