"""The project's own wrappers of store clients.

A class of the project wraps a client of the API catalog when it subclasses the client's
class (`class Cache(redis.Redis)`), forwards to one through `__getattr__`
(`return getattr(self._redis, name)`), or holds one and calls it with a key its caller
gave (`def save(self, filename, data): self.s3.put_object(Key=filename, ...)`). Such a
class *is* that client for its callers: a call of a forwarding method is a store call
whose key is the forwarded parameter, and any other method falls back to the wrapped
client's own catalog entries. The judgment moves to the callers, where the key is built;
inside the wrapper, a call that only forwards its caller's key is not a finding.

The catalog pass reads each file that may define one (`WrapperFact`) and each module-level
name bound to an instance (a `ModuleNamesFact` handle of kind `wrapper:<class>`, or
`new:<class>` for a class imported from elsewhere, resolved once every wrapper is known),
so a one-file run sees wrappers defined anywhere in the project."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Iterable

from tenantlint.names import dotted
from tenantlint.words import words_of

WRAPPER = "wrapper:"  # the kind of an instance of a project wrapper class
NEW = "new:"  # a module-level instance of a class imported from another module
_MAX_BASES = 8


@dataclass(frozen=True)
class WrapperFact:
    """The wrapper classes of one module: (class name, wrapped kind or "", qualified bases,
    forwarding methods as (method, role, position after `self`, parameter name))."""

    path: str
    module: str
    classes: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, str, int, str], ...]], ...] = ()


@dataclass(frozen=True)
class WrapperInfo:
    """What a wrapper class is: the kind it wraps (methods it does not define fall back
    to that kind's entries; "" when none), and its forwarding methods."""

    kind: str = ""
    methods: dict = field(default_factory=dict)  # method -> (role, position, parameter)

    def __hash__(self) -> int:  # frozen with a dict: hash by content for the catalog digest
        return hash((self.kind, tuple(sorted(self.methods.items()))))


def index_wrappers(facts: Iterable[WrapperFact]) -> dict[str, WrapperInfo]:
    """Qualified class name -> WrapperInfo; a subclass of a wrapper inherits its kind and
    its forwarding methods (it may override them)."""
    declared: dict[str, tuple[str, tuple[str, ...], dict]] = {}
    for fact in facts:
        for name, kind, bases, methods in fact.classes:
            declared[f"{fact.module}.{name}"] = (kind, bases, {m: (role, pos, param) for m, role, pos, param in methods})

    def resolve(qualified: str, depth: int) -> tuple[str, dict] | None:
        found = declared.get(qualified) or _by_suffix(declared, qualified)
        if found is None or depth > _MAX_BASES:
            return None
        kind, bases, methods = found
        merged: dict = {}
        for base in reversed(bases):
            inherited = resolve(base, depth + 1)
            if inherited is not None:
                kind = kind or inherited[0]
                merged.update(inherited[1])
        merged.update(methods)
        return kind, merged

    out: dict[str, WrapperInfo] = {}
    for qualified in declared:
        kind, methods = resolve(qualified, 0) or ("", {})
        if kind or methods:
            out[qualified] = WrapperInfo(kind, methods)
    return out


def _by_suffix(table: dict, qualified: str):
    """The one entry whose key ends with `.qualified` (a project under `src/`)."""
    if "." not in qualified:
        return None
    found = [value for key, value in table.items() if key.endswith("." + qualified)]
    return found[0] if len(found) == 1 else None


def find_wrapper(wrappers: dict, qualified: str | None) -> tuple[str, WrapperInfo] | None:
    """(qualified class, info) for a name that designates a wrapper class."""
    if not qualified or not wrappers:
        return None
    info = wrappers.get(qualified)
    if info is not None:
        return qualified, info
    if "." not in qualified:
        return None
    found = [(key, value) for key, value in wrappers.items() if key.endswith("." + qualified)]
    return found[0] if len(found) == 1 else None


_SCREENS: dict[int, tuple[dict, re.Pattern | None]] = {}


def mentions_wrapper(wrappers: dict, source: str) -> bool:
    """Whether `source` names one of the project's wrapper classes (a cheap screen)."""
    if not wrappers:
        return False
    memo = _SCREENS.get(id(wrappers))
    if memo is None or memo[0] is not wrappers:
        names = sorted({q.rsplit(".", 1)[-1] for q in wrappers})
        memo = _SCREENS[id(wrappers)] = (wrappers, re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b"),
                                         frozenset(names) if all(n.isascii() for n in names) else None)
    if memo[2] is not None:  # the file's words hold every ASCII name `\b` finds
        return not memo[2].isdisjoint(words_of(source))
    return memo[1].search(source) is not None


# -- forwarding inside a method ---------------------------------------------------------
def forwarded_param(key: ast.AST, method: ast.FunctionDef, value_of) -> str | None:
    """The one parameter of `method` (not `self`) that `key` is built from, when nothing
    else decides it: constants, `self` attributes, module-level names, and calls of
    those (`os.path.join(self.prefix, filename)`, `f"{self.ns}:{key}"`). Locals are
    followed to their values. A parameter passed on as the key itself, unchanged
    (`client.xadd(stream, ...)`), is the caller's key whatever its name; `*keys` passed
    on whole is `"*keys"` (the caller's unnamed arguments are all keys)."""
    args = method.args
    if isinstance(key, ast.Starred):
        star = args.vararg
        return "*" + star.arg if star is not None and _passed_as_is(key.value, star.arg, value_of) else None
    params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    if not params:
        return None
    used: set[str] = set()
    if not _collect(key, set(params), value_of, used, 0) or len(used) != 1:
        return None
    param = used.pop()
    return param if _names_a_key(param) or _passed_as_is(key, param, value_of) else None


def _passed_as_is(node: ast.AST, param: str, value_of, depth: int = 0) -> bool:
    """`node` is the parameter itself, directly or through locals bound to it."""
    while isinstance(node, ast.Name) and depth < 8:
        if node.id == param:
            return True
        node, depth = value_of(node.id), depth + 1
    return False


_KEY_WORDS = {"key", "keys", "name", "names", "path", "paths", "filename", "filenames", "prefix", "pattern",
              "blob", "object"}


def _names_a_key(param: str) -> bool:
    """A parameter that is the key itself (`key`, `filename`, `file_path`, `cache_key`), not
    a domain value the method builds a key from (`session_id`, `metric`): only the former
    hands the judgment to the caller; a method that builds keys from ids is judged where
    it builds them."""
    words = param.lower().strip("_").split("_")
    return bool(words) and (words[-1] in _KEY_WORDS or param.lower() in _KEY_WORDS)


def built_from(key: ast.AST, params: set[str], value_of) -> set[str] | None:
    """The names of `params` that `key` is built from, when nothing else decides it
    (constants, `self` attributes, module-level names); None when something may."""
    used: set[str] = set()
    return used if _collect(key, params, value_of, used, 0) else None


def _collect(node, params: set[str], value_of, used: set[str], depth: int) -> bool:
    """Add the parameters `node` is built from to `used`; False when something else
    (an unknown local, a loop variable) may decide it."""
    if depth > 12 or not isinstance(node, ast.AST):
        return False
    if isinstance(node, ast.Name):
        if node.id in params:
            used.add(node.id)
            return True
        bound = value_of(node.id)
        if bound is None:
            return node.id[:1].isupper() or node.id.isupper()  # a module constant or class
        return _collect(bound, params, value_of, used, depth + 1)
    if isinstance(node, ast.Attribute):
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in ("self", "cls"):
            return True
        return _collect(node.value, params, value_of, used, depth + 1)
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):  # `key.lower()`, `os.path.join(...)`: the receiver's parameters count
            _collect(func.value, params, value_of, used, depth + 1)
        elif not isinstance(func, ast.Name):
            return False
        values = [a.value if isinstance(a, ast.Starred) else a for a in node.args] + [k.value for k in node.keywords]
        return all(_collect(v, params, value_of, used, depth + 1) for v in values)
    if isinstance(node, ast.JoinedStr):
        return all(_collect(v.value, params, value_of, used, depth + 1) for v in node.values
                   if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.BinOp):
        return _collect(node.left, params, value_of, used, depth + 1) and _collect(
            node.right, params, value_of, used, depth + 1)
    if isinstance(node, ast.Subscript):
        return _collect(node.value, params, value_of, used, depth + 1)
    if isinstance(node, ast.Await):
        return _collect(node.value, params, value_of, used, depth + 1)
    return False


def key_argument(ctx_args, call: ast.Call, spec):
    """The expression that is a store call's key (or first key), None without one."""
    if spec.key is not None:
        return ctx_args(call, spec.key)
    if spec.keys is not None:
        return ctx_args(call, spec.keys)
    if spec.varargs and call.args:
        return call.args[0]  # `*keys` too: a wrapper may pass its own varargs on
    return None


# -- module-level instances ---------------------------------------------------------------
_INSTANCE = re.compile(rb"^\w+[ \t]*(?::[^=\n]*)?=[ \t]*(?:[\w.]*\.)?(?:[A-Z]\w*|(?i:\w*(?:storage|store|cache|"
                       rb"client|redis|bucket|provider|backend)\w*))\(", re.M)
_FACTORY_WORDS = re.compile(r"storage|store|cache|client|redis|bucket|provider|backend", re.I)


def may_bind_instance(data: bytes) -> bool:
    """A module-level `name = SomeClass(...)` or `name = get_storage(...)` (a cheap screen on
    bytes: a class, or a factory whose name says it makes a store)."""
    return _INSTANCE.search(data) is not None


def makes_instance(callee: str) -> bool:
    """A callee whose result may be a wrapper instance: a class, or a store factory."""
    last = callee.rsplit(".", 1)[-1]
    return last[:1].isupper() or _FACTORY_WORDS.search(last) is not None


def resolve_instance(kind: str, wrappers: dict) -> str | None:
    """A recorded instance kind as a handle kind: `new:<q>` becomes `wrapper:<q>` when q is
    a wrapper class of the project, else nothing."""
    if not kind.startswith(NEW):
        return kind
    found = find_wrapper(wrappers, kind[len(NEW):])
    return WRAPPER + found[0] if found is not None else None
