"""Class attributes that hold a model: the shapes a generic repository or view takes.

A method that queries `self.model` runs on whatever the class, or one of its
subclasses (often in another file), binds `model` to: `model = Board` in the class
body, `self.model = Board` in a method, `super().__init__(Board)` into an `__init__`
that stores its argument, or a generic base `Repository[Board]` whose attribute is
typed `type[T]`. This discoverer records each class's bases and such bindings, as
written; `tenantlint.orm.index` resolves them across files into the tenant models
each `(class, attribute)` can hold. Nothing here knows the tenant models."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable

from tenantlint.catalog import ModelFact
from tenantlint.config import Settings
from tenantlint.orm.pyast import ImportAliases, dotted, top_classes

# A file is worth parsing for bindings when it may bind an attribute to a class or
# subclass a generic: `    model = Board`, `self.model = models.Board`, `class A(B[C]):`,
# `super().__init__(Board)`, `model: type[T]`, or when it uses an ORM (where the base
# classes that store their argument live).
_SCREEN = re.compile(
    rb"^[ \t]+(?:(?:self|cls)\.)?\w+[ \t]*(?::[^=\n]*)?=[ \t]*(?:\w+\.)*(?!(?:None|True|False)\b)[A-Z]\w*[ \t]*(?:#[^\n]*)?\r?$"
    rb"|^[ \t]*class[ \t]+\w+[ \t]*\([^\n]*\["
    rb"|__init__\([ \t]*(?:\w+[ \t]*=[ \t]*)?(?:\w+\.)*[A-Z]"
    rb"|\b[tT]ype\[",
    re.M)
_ORM_IMPORTS = (b"sqlalchemy", b"sqlmodel", b"django")
_NOT_BASES = frozenset({"object", "Generic", "Protocol"})


@dataclass(frozen=True)
class ClassShape:
    name: str
    bases: tuple[str, ...] = ()  # short names, generics and `object` left out
    args: tuple[tuple[str, tuple[str | None, ...]], ...] = ()  # base -> subscript arguments (short names)
    type_params: tuple[str, ...] = ()  # the class's own type variables, in order
    binds: tuple[tuple[str, tuple[str, ...]], ...] = ()  # attribute -> classes assigned to it
    params: tuple[tuple[str, int, str], ...] = ()  # (attribute, position, parameter) stored by __init__
    typed: tuple[tuple[str, str], ...] = ()  # attribute -> type variable (`model: type[T]`)
    super_args: tuple[str | None, ...] = ()  # super().__init__(Board, ...)
    super_kwargs: tuple[tuple[str, str], ...] = ()  # super().__init__(model=Board)


class ClassBindings:
    triggers = (b"class",)
    gaps = False  # an unreadable file is a gap for the model discoverers, not for this refinement

    @staticmethod
    def screen(data: bytes) -> bool:
        return b"class" in data and (any(word in data for word in _ORM_IMPORTS) or _SCREEN.search(data) is not None)

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        return self.screen(data)

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[ModelFact]:
        typevars = _typevars(tree)
        # `from app.models import Board as BoardModel`: `model = BoardModel` binds `Board`.
        renames = {local: full.rsplit(".", 1)[-1] for local, full in ImportAliases(tree, module).aliases.items()
                   if full.rsplit(".", 1)[-1] != local}
        shapes = tuple(s for s in (_shape(cls, typevars, renames) for cls in top_classes(tree)) if s is not None)
        if shapes:
            # A pseudo-model (like the loader-criteria fact): abstract, never a table.
            yield ModelFact(name=f"<classes {path}>", qualname="", bases=(), framework="", path=path, line=1,
                            abstract=True, extra={"classes": shapes})


def _short(node: ast.AST, renames: dict[str, str] | None = None) -> str | None:
    """The class name a reference ends with (`models.Board` -> `Board`); a name imported
    under another one (`renames`) is the imported class's."""
    name = dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if name and renames and name in renames:
        return renames[name]
    return name.rsplit(".", 1)[-1] if name else None


def _typevars(tree: ast.Module) -> frozenset[str]:
    """Module-level `T = TypeVar("T", ...)`."""
    out = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and \
                _short(stmt.value.func) in ("TypeVar", "TypeVarTuple"):
            out.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return frozenset(out)


def _type_var(annotation: ast.AST | None, known: frozenset[str]) -> str | None:
    """`T` in `type[T]`, `Type[T]`, `type[T] | None`, `ClassVar[type[T]]`, `"type[T]"`."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    for node in ast.walk(annotation):
        if isinstance(node, ast.Subscript) and _short(node.value) in ("type", "Type") \
                and isinstance(node.slice, ast.Name) and (not known or node.slice.id in known):
            return node.slice.id
    return None


def _shape(cls: ast.ClassDef, file_typevars: frozenset[str], renames: dict[str, str]) -> ClassShape | None:
    bases: list[str] = []
    args: list[tuple[str, tuple[str | None, ...]]] = []
    declared: tuple[str, ...] = tuple(p.name for p in getattr(cls, "type_params", ()) or ())
    appearing: list[str] = []
    for base in cls.bases:
        sub = None
        if isinstance(base, ast.Subscript):
            base, sub = base.value, base.slice
        short = _short(base, renames)
        if short is None:
            continue
        if sub is not None:
            elts = sub.elts if isinstance(sub, ast.Tuple) else [sub]
            names = tuple(_short(e, renames) for e in elts)
            if short in ("Generic", "Protocol"):
                declared = declared or tuple(n for n in names if n)
            else:
                args.append((short, names))
                appearing.extend(n for n in names if n in file_typevars and n not in appearing)
        if short not in _NOT_BASES:
            bases.append(short)
    type_params = declared or tuple(appearing)
    known = frozenset(type_params) | file_typevars

    binds: dict[str, list[str]] = {}
    params: dict[str, tuple[int, str]] = {}
    typed: dict[str, str] = {}
    super_args: tuple[str | None, ...] = ()
    super_kwargs: dict[str, str] = {}

    def bind(attr: str, value: ast.AST | None) -> bool:
        ref = _short(value, renames) if isinstance(value, (ast.Name, ast.Attribute)) else None
        if ref is not None:
            binds.setdefault(attr, [])
            if ref not in binds[attr]:
                binds[attr].append(ref)
        return ref is not None

    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    bind(target.id, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            var = _type_var(stmt.annotation, known)
            if var:
                typed[stmt.target.id] = var
            if stmt.value is not None:
                bind(stmt.target.id, stmt.value)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sa, sk = _method(stmt, cls, bind, params, typed, known, renames)
            if stmt.name == "__init__" and (sa or sk):
                super_args, super_kwargs = sa, sk
    if not (bases or binds or params or typed):
        return None
    return ClassShape(
        name=cls.name, bases=tuple(bases), args=tuple(args), type_params=type_params,
        binds=tuple((k, tuple(v)) for k, v in binds.items()),
        params=tuple((k, i, p) for k, (i, p) in params.items()), typed=tuple(typed.items()),
        super_args=super_args, super_kwargs=tuple(super_kwargs.items()))


def _method(fn, cls: ast.ClassDef, bind, params: dict, typed: dict, known: frozenset[str], renames: dict[str, str]):
    """Bindings made in a method: `self.attr = Class`, and in `__init__` `self.attr = param`
    (position and name of the parameter) and `super().__init__(...)`'s class arguments."""
    if any(_short(d) == "staticmethod" for d in fn.decorator_list):
        return (), {}
    positional = [*fn.args.posonlyargs, *fn.args.args]
    if not positional:
        return (), {}
    me = positional[0].arg
    rest = positional[1:]
    arguments = {a.arg: a for a in (*rest, *fn.args.kwonlyargs)}
    position = {a.arg: i for i, a in enumerate(rest)}
    init = fn.name == "__init__"
    super_args: tuple[str | None, ...] = ()
    super_kwargs: dict[str, str] = {}
    for node in _statements(fn.body):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == me):
                    continue
                attr = target.attr
                if isinstance(node, ast.AnnAssign):
                    var = _type_var(node.annotation, known)
                    if var:
                        typed[attr] = var
                value = node.value
                if init and isinstance(value, ast.Name) and value.id in arguments:
                    arg = arguments[value.id]
                    params[attr] = (position.get(value.id, -1), value.id)
                    var = _type_var(arg.annotation, known)
                    if var:
                        typed.setdefault(attr, var)
                elif value is not None:
                    bind(attr, value)
        elif init and isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                _super_init(node.value, cls, me):
            node = node.value
            call_args = list(node.args)
            if not isinstance(node.func.value, ast.Call):  # Base.__init__(self, ...)
                call_args = call_args[1:]
            starred = next((i for i, a in enumerate(call_args) if isinstance(a, ast.Starred)), len(call_args))
            super_args = tuple(_short(a, renames) if isinstance(a, (ast.Name, ast.Attribute)) else None
                               for a in call_args[:starred])  # positions after `*args` are unknown
            super_kwargs = {k.arg: _short(k.value, renames) for k in node.keywords
                            if k.arg and isinstance(k.value, (ast.Name, ast.Attribute))}
    return super_args, super_kwargs


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(body: list):
    """Every statement of a function body at any depth, not those of nested definitions."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for attr in _BODIES:
            value = getattr(node, attr, None)
            if value:
                stack.extend(reversed(value))


def _super_init(call: ast.Call, cls: ast.ClassDef, me: str) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
        return False
    owner = func.value
    if isinstance(owner, ast.Call):
        return isinstance(owner.func, ast.Name) and owner.func.id == "super"
    return _short(owner) in {_short(b.value if isinstance(b, ast.Subscript) else b) for b in cls.bases} \
        and bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == me


DISCOVERERS: tuple = (ClassBindings(),)
