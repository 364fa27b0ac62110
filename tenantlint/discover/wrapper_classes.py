"""The project's wrapper classes of store clients, and module-level instances of classes,
for the catalog (see `tenantlint/stores/wrappers.py` for what makes a wrapper).

A file that imports a library of the API catalog is read by the store walker itself (a
probe that judges nothing): for each module-level class, the kind it subclasses, the kind
its `__getattr__` forwards to, and each method that calls a store with a key built from
one of its parameters. Any file with a module-level `name = SomeClass(...)` records that
instance, resolved once every wrapper class of the project is known."""
from __future__ import annotations

import ast
import re
from typing import Iterable

from tenantlint.packs import api_catalog_for

from tenantlint.config import Settings
from tenantlint.context import FileContext
from tenantlint.module_index import ModuleNamesFact
from tenantlint.ambient import body_nodes
from tenantlint.names import dotted, import_map
from tenantlint.stores.bindings import _assignments
from tenantlint.stores.walker import ApiChecker
from tenantlint.stores.wrappers import (NEW, WrapperFact, forwarded_param, key_argument, makes_instance,
                                       may_bind_instance)
from tenantlint.visit import walk_batched


class _Probe(ApiChecker):
    """The store walker over one file, recording what its classes forward (no findings)."""

    roles = ("cache", "object")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.active = ctx.imports is not None
        self.found: dict[str, dict] = {}  # class name -> {"kind", "bases", "methods"}

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        super().visit_ClassDef(node)
        if len(self.scopes) != 1 or len(self.class_nodes) != 1:
            return
        kind = ""
        for base in node.bases:
            handle = self.annotation_handle(base)
            if handle is not None and handle.kind:
                kind = handle.kind
                break
        bases = tuple(q for q in (self.ctx.imports.qualify(b) for b in node.bases if dotted(b)) if q)
        # An object that holds its tenant (`self.tenant_id = ...`) builds keys itself: its
        # methods are judged where they are, not at their callers.
        holds_tenant = any(self.tenancy.word_is_tenant(attr) for attr in self.classes[-1])
        self.found[node.name] = {"kind": kind, "bases": bases, "methods": {}, "holds_tenant": holds_tenant}

    def _method(self) -> tuple[dict, ast.FunctionDef] | None:
        if len(self.class_nodes) != 1 or len(self.scopes) != 2:
            return None
        record = self.found.get(self.class_nodes[0][0].name)
        method = self.scope_nodes[-1]
        if record is None or not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        return record, method

    def check(self, call: ast.Call, role: str, matched) -> None:
        here = self._method()
        if here is None:
            return
        record, method = here
        if record["holds_tenant"] or not self._held(call.func):
            return
        for spec, handle, name in matched:
            param = forwarded_param(key_argument(self.arg, call, spec), method, self.value_of)
            if param is None:
                continue
            args = method.args
            positional = [a.arg for a in (*args.posonlyargs, *args.args)]
            if positional and positional[0] in ("self", "cls"):
                positional = positional[1:]
            if param.startswith("*"):  # `*keys`: the caller's unnamed arguments from there on
                position = len(positional)
            else:
                position = positional.index(param) if param in positional else -1
            record["methods"].setdefault(method.name, (role, position, param))
            if handle is not None and handle.kind and name == method.name and not record["kind"]:
                record["kind"] = handle.kind  # delegates a method of the same name: it is that client
            return

    def _held(self, func: ast.expr, depth: int = 0) -> bool:
        """The store the call reaches is one the class holds: reached through `self` (an
        attribute, a method, the class itself as a subclass) or a module-level client,
        not a client the caller passes in."""
        node = func.value if isinstance(func, ast.Attribute) else func
        while depth < 8:
            depth += 1
            if isinstance(node, (ast.Attribute, ast.Subscript, ast.Await)):
                node = node.value
            elif isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, ast.Name):
                if node.id in ("self", "cls"):
                    return True
                if node.id not in self.scopes[-1]:
                    return True  # a module-level client
                value = self.value_of(node.id)
                if not isinstance(value, ast.expr):
                    return False  # a parameter: the caller's client
                node = value
            else:
                return False
        return False

    def visit_Call(self, node: ast.Call) -> None:
        super().visit_Call(node)
        here = self._method()
        if here is None or here[1].name != "__getattr__":
            return
        if dotted(node.func) == "getattr" and len(node.args) >= 2:
            handle = self.handle_of(node.args[0])
            if handle is not None and handle.kind and not here[0]["kind"]:
                here[0]["kind"] = handle.kind


class WrapperClasses:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    wants_source = True
    gaps = False  # an unreadable file leaves its wrappers unknown, as before this pass

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        return may_bind_instance(data) or (b"class " in data and _keyed_screen(settings)[0].search(data) is not None)

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings,
                 source: str | None = None) -> Iterable[object]:
        if source is None or not module:
            return []
        out: list[object] = []
        imports = import_map(tree, module)
        classes = {stmt.name for stmt in tree.body if isinstance(stmt, ast.ClassDef)}
        if classes and _keyed_screen(settings)[1].search(source) is not None:
            ctx = FileContext(path=path, source=source, settings=settings, catalog=None, module=tree,
                              module_name=module)
            probe = _Probe(ctx)
            walk_batched(tree, [probe])
            found = tuple(sorted((name, r["kind"], r["bases"], tuple(sorted(
                (m, role, pos, param) for m, (role, pos, param) in r["methods"].items())))
                for name, r in probe.found.items()))
            # a factory is what it returns: an entry whose "bases" are the classes it makes
            found += tuple((name, "", made, ()) for name, made in factories(tree, imports.qualify))
            if found:
                out.append(WrapperFact(path, module, found))
        elif classes:  # subclasses of wrappers defined elsewhere
            bases = []
            for stmt in tree.body:
                if isinstance(stmt, ast.ClassDef):
                    qualified = tuple(q for q in (imports.qualify(b) for b in stmt.bases if dotted(b))
                                      if q and q.split(".")[0] == module.split(".")[0] and "." in q)
                    if qualified:
                        bases.append((stmt.name, "", qualified, ()))
            if bases:
                out.append(WrapperFact(path, module, tuple(bases)))
        instances = module_instances(tree, imports.qualify)
        if instances:
            out.append(ModuleNamesFact(path, module, tuple(instances)))
        return out


_SCREENS: dict = {}


def _keyed_screen(settings: Settings) -> tuple[re.Pattern, re.Pattern]:
    """An import of a library whose calls take cache or object keys: (on bytes, on text)."""
    api = api_catalog_for(settings)
    found = _SCREENS.get(id(api))
    if found is None or found[0] is not api:
        modules = sorted({m for pack, mods in api.imports.items() if api.pack_roles.get(pack, set()) & set(_Probe.roles)
                          for m in mods}, key=len, reverse=True)
        text = r"^[ \t]*(?:from|import)[ \t]+(?:" + "|".join(map(re.escape, modules)) + r")\b" if modules else r"(?!)"
        found = _SCREENS[id(api)] = (api, re.compile(text.encode(), re.M), re.compile(text, re.M))
    return found[1], found[2]


def factories(tree: ast.Module, qualify) -> list[tuple[str, tuple[str, ...]]]:
    """(function, classes) for the module-level functions that return instances of classes:
    by their return annotation (`-> AsyncRedisClient`), else by what every `return` gives
    (`return S3Storage()`, or a name the function binds only to such calls)."""
    out = []
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if func.returns is not None and _capitalized(func.returns):
            qualified = qualify(func.returns)
            if qualified and "." in qualified:
                out.append((func.name, (qualified,)))
            continue
        made: dict[str, set[str]] = {}
        returns: list[ast.expr] = []
        for node in body_nodes(func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        made.setdefault(target.id, set()).add(_made(node.value, qualify) or "")
            elif isinstance(node, ast.Return) and node.value is not None:
                returns.append(node.value)
        classes: set[str] = set()
        for value in returns:
            if isinstance(value, ast.Name) and value.id in made:
                classes |= made[value.id]
            else:
                classes.add(_made(value, qualify) or "")
        if classes and "" not in classes:
            out.append((func.name, tuple(sorted(classes))))
    return out


def _capitalized(node: ast.AST) -> bool:
    name = dotted(node)
    return bool(name) and name.rsplit(".", 1)[-1][:1].isupper()


def _made(value: ast.expr, qualify) -> str | None:
    """The class a `SomeClass(...)` call makes (qualified), None for anything else."""
    if isinstance(value, ast.Call) and _capitalized(value.func):
        qualified = qualify(value.func)
        return qualified if qualified and "." in qualified else None
    return None


def module_instances(tree: ast.Module, qualify) -> list[tuple[str, str, bool]]:
    """(name, `new:<callee>`, False) for the module-level names bound once to what a class
    or a store factory makes (`makes_instance`), resolved against the project's wrapper classes when the
    catalog is assembled (`tenantlint.stores.wrappers.resolve_instance`)."""
    counts: dict[str, int] = {}
    found: dict[str, str] = {}
    for name, value in _assignments(tree.body, deep=False):
        counts[name] = counts.get(name, 0) + 1
        func = value.func if isinstance(value, ast.Call) else None
        callee = dotted(func) if func is not None else None
        if callee is not None and makes_instance(callee):
            qualified = qualify(func)
            if qualified and "." in qualified:
                found[name] = NEW + qualified
    return sorted((name, kind, False) for name, kind in found.items() if counts.get(name) == 1)


DISCOVERERS: tuple = (WrapperClasses(),)
