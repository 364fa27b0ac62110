"""Names one module of the project binds and others import: handles and string constants.

Two steps, both part of the catalog pass:

1. `ModuleNames`, a discoverer like the others (one file, cached with its facts): the
   module-level names bound to a handle of the API catalog (`kb_index = pc.Index("kb")`,
   the kind inferred as `tenantlint/stores/handles.py` does within a file), and the
   module-level string constants with the text the SQL checker recovers for them. Files
   screened on their bytes: those that import a library of the API catalog (or name a
   team's own wrapper class), for handles; those with a literal that starts like SQL or a
   tenant column, for constants.
2. `use_facts`, once the constants are known: how other modules use them. A file that
   names one is read by the SQL checker itself, with a catalog that knows every constant
   and with judging turned off: each reference it folds into a larger string is `folded`
   (judged there, at the use), any other is `bare` (judged at the definition, as a
   constant used alone in its own module is). The same code decides both in the per-file
   pass, so the two never disagree. The catalog keeps only the constants another module
   uses: a constant nobody imports changes no other file's result, nor the cache key.

A file that cannot be read here is not a gap (TL001 for the whole catalog): its names are
simply unknown to other modules, as they were before this pass existed; a file whose uses
cannot be read counts every constant it names as used bare (judged at its definition)."""
from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path
from typing import Callable, Iterable

from tenantlint.cache import stamp_before_read
from tenantlint.catalog import TenantCatalog
from tenantlint.module_index import ModuleNamesFact, NameUseFact, index_modules
from tenantlint.config import Settings
from tenantlint.context import FileContext
from tenantlint.grammar import parse as parse_module
from tenantlint.files import module_name
from tenantlint.names import child_statements
from tenantlint.source import decode, read_bytes
from tenantlint.sql.recover import RecoveryLookups, HolePiece, Recovered, recover
from tenantlint.sql.statements import literal_screen, looks_like_sql

_SCREENS: dict = {}


def _sql_screen() -> re.Pattern:
    """The SQL checker's screen (a literal that starts like a statement), on bytes."""
    if "sql" not in _SCREENS:
        pattern = literal_screen()
        _SCREENS["sql"] = re.compile(pattern.pattern.encode(), pattern.flags & ~re.U)
    return _SCREENS["sql"]


def _store_screen(settings: Settings) -> tuple[re.Pattern, re.Pattern]:
    """An import of a library of the API catalog, or the name of a configured wrapper
    class: (on bytes, on text)."""
    from tenantlint.packs import api_catalog_for

    api = api_catalog_for(settings)
    found = _SCREENS.get(id(api))
    if found is None or found[0] is not api:
        modules = sorted({m for mods in api.imports.values() for m in mods}, key=len, reverse=True)
        alternatives = [r"^[ \t]*(?:from|import)[ \t]+(?:" + "|".join(map(re.escape, modules)) + r")\b"] \
            if modules else []
        owners = {part for name in api.configured for part in name.split(".")[:-1] if part[:1].isupper()}
        alternatives += [r"\b" + re.escape(owner) + r"\b" for owner in sorted(owners)]
        text = "|".join(alternatives) or r"(?!)"
        found = _SCREENS[id(api)] = (api, re.compile(text.encode(), re.M), re.compile(text, re.M))
    return found[1], found[2]


def _columns(settings: Settings) -> tuple[bytes, ...]:
    return tuple(sorted({v for c in settings.tenant_columns if c
                         for v in (c.encode(), c.lower().encode(), c.upper().encode())}))


class ModuleNames:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    wants_source = True  # discover() gets the decoded text (handles need positions)
    gaps = False  # an unreadable file leaves these names unknown, not the catalog incomplete

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        return (any(c in data for c in _columns(settings)) or _store_screen(settings)[0].search(data) is not None
                or _sql_screen().search(data) is not None)

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings,
                 source: str | None = None) -> Iterable[ModuleNamesFact]:
        if source is None or not module:
            return []
        context: list[FileContext] = []

        def ctx() -> FileContext:  # built only when needed: most modules bind nothing of interest
            if not context:
                context.append(FileContext(path=path, source=source, settings=settings, catalog=None,
                                           module=tree, module_name=module))
            return context[0]

        handles: tuple = ()
        if _may_bind_handles(tree) and _store_screen(settings)[1].search(source) is not None:
            from tenantlint.stores.handles import module_handles

            handles = tuple(sorted(module_handles(ctx())))
        constants = tuple(module_constants(tree, ctx, settings))
        if not handles and not constants:
            return []
        return [ModuleNamesFact(path, module, handles, constants)]


DISCOVERERS: tuple = (ModuleNames(),)


def _may_bind_handles(tree: ast.Module) -> bool:
    """A module-level assignment of a call, attribute, subscript or name (what a handle
    is made of), or a function with a return annotation (a factory of one), at the top
    level or in a block there."""
    stack = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(
                stmt.value, (ast.Call, ast.Attribute, ast.Subscript, ast.Await, ast.Name)):
            return True
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.returns is not None:
            return True
        if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith)) or type(stmt).__name__ == "TryStar":
            stack.extend(child_statements(stmt))
    return False


# -- constants ------------------------------------------------------------------------
def module_constants(tree: ast.Module, ctx: Callable[[], FileContext], settings: Settings) -> list:
    """(name, pieces, line) of the names bound to a string once, at the top level of the
    module (`+=` extensions included), as the SQL checker builds them (`line`: where the
    value starts). Only text that matters to SQL: it starts like a statement, or names a
    tenant column (a predicate to complete a query with). A name bound any other way as
    well (in a block, a loop, by an import, a def, `global` in a function) is left out:
    which value another module sees is unknown."""
    values: dict[str, tuple[Recovered, int]] = {}
    unstable: set[str] = set()

    def lookup(name: str) -> Recovered | None:
        found = values.get(name)
        return found[0] if found is not None else None

    env = RecoveryLookups(lookup=lookup, qualify=lambda node: ctx().imports.qualify(node), code=lambda node: ctx().code_for(node))
    for stmt in tree.body:
        if isinstance(stmt, ast.AugAssign):
            target = stmt.target
            if isinstance(target, ast.Name):
                if target.id in values and isinstance(stmt.op, ast.Add):
                    addition = recover(stmt.value, env) or Recovered([HolePiece("concat", env.code(stmt.value))])
                    text, line = values[target.id]
                    values[target.id] = (text + addition, line)
                else:
                    values.pop(target.id, None)
                    unstable.add(target.id)
            continue
        if isinstance(stmt, ast.Delete):
            unstable.update(n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name))
            continue
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            for target in targets:  # `a = b = "..."`, tuples: not a build of the SQL checker
                unstable.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            continue
        name = targets[0].id
        if not _stringy(value):
            values.pop(name, None)
            continue
        previous = values.get(name)
        recovered = recover(value, env)
        if recovered is None or not recovered.has_text:
            values.pop(name, None)
            continue
        extends = previous is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value))
        values[name] = (recovered, previous[1] if extends else value.lineno)
    found = [(name, text, line) for name, (text, line) in values.items()
             if name not in unstable and not (name.startswith("__") and name.endswith("__"))
             and _matters_to_sql(text, settings)]
    if not found:
        return []
    rebound = _rebound(tree)
    return [(name, tuple(text.pieces), line) for name, text, line in found if name not in rebound]


def _stringy(value: ast.expr) -> bool:
    """Whether an assigned value can recover to text (cheap: no string node, no text)."""
    if isinstance(value, (ast.Constant, ast.JoinedStr)):
        return isinstance(value, ast.JoinedStr) or type(value.value) is str
    return isinstance(value, (ast.BinOp, ast.Call, ast.Name, ast.Attribute))


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _matters_to_sql(text: Recovered, settings: Settings) -> bool:
    plain = " ".join(p if isinstance(p, str) else " " for p in text.pieces)
    if looks_like_sql(plain):
        return True
    columns = {c.lower() for c in settings.tenant_columns}
    return any(w.lower() in columns for w in _WORD.findall(plain))


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _rebound(tree: ast.Module) -> set[str]:
    """Module names bound other than by a top-level assignment."""
    out: set[str] = set()
    stack = [(stmt, True) for stmt in tree.body]
    while stack:
        stmt, top = stack.pop()
        if isinstance(stmt, _DEFS):
            out.add(stmt.name)
            nested = list(stmt.body)
            while nested:  # `global NAME` anywhere inside rebinds it
                inner = nested.pop()
                if isinstance(inner, ast.Global):
                    out.update(inner.names)
                nested.extend(inner.body if isinstance(inner, _DEFS) else child_statements(inner))
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        elif not top and isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                out.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            out.update(n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    out.update(n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            out.update(h.name for h in stmt.handlers if h.name)
        stack.extend((child, False) for child in child_statements(stmt))
    return out


# -- uses in other modules ------------------------------------------------------------
def use_facts(paths: list[Path], rels: list[str], facts: list, settings: Settings, memo=None) -> list[NameUseFact]:
    """How every file uses the string constants other modules define (see the module
    docstring). With `memo` (the catalog pass's FactCache) each file's answer is kept
    while the file and the set of constants are unchanged."""
    index = index_modules(facts, every_constant=True)
    if not index.constants:
        return []
    # A file can use a constant only if it names both it and its module (`from app.sql
    # import BASE`, `from . import sql`, `sql.BASE`): the last part of the module's name.
    tails: dict[bytes, set[bytes]] = {}
    for shared in index.constants.values():
        tails.setdefault(shared.name.encode(), set()).add(shared.module.rsplit(".", 1)[-1].encode())
    names = re.compile(rb"\b(?:" + b"|".join(re.escape(n) for n in sorted(tails)) + rb")\b")

    def screen(data: bytes) -> set[str]:
        found = set(names.findall(data)) if names.search(data) else set()
        return {n.decode() for n in found if any(t in data for t in tails[n])}

    # What can change how a file's uses are classified: which names are constants, and
    # whether each one's text is static (`sep.join(...)` folds only with a static sep).
    digest = hashlib.sha256(repr(sorted(
        (key, all(isinstance(p, str) for p in c.pieces)) for key, c in index.constants.items())).encode()).hexdigest()
    catalog = TenantCatalog(tenant_columns=frozenset(c.lower() for c in settings.tenant_columns),
                            dialect=settings.dialect, modules=index)
    return per_python_file(paths, rels, memo, f"uses\x00{digest}",
                           lambda path, rel: _uses_in(path, rel, settings, catalog, screen))


def per_python_file(paths: list[Path], rels: list[str], memo, tag: str, compute: Callable) -> list:
    """`compute(path, rel)` for every Python file, kept in `memo` (the catalog pass's
    FactCache) under `tag` while the file is unchanged: a second discovery step whose
    answer also depends on what `tag` digests."""
    out: list = []
    for path, rel in zip(paths, rels):
        if path.suffix not in (".py", ".pyi"):
            continue
        key = f"{rel}\x00{tag}"
        found = memo.lookup(path, key) if memo is not None else None
        if found is None:
            before = stamp_before_read(path)
            found = compute(path, rel)
            if memo is not None:
                memo.record(path, key, found, before)
        out.extend(found)
    return out


def _uses_in(path: Path, rel: str, settings: Settings, catalog: TenantCatalog, screen) -> list:
    raw = read_bytes(path, settings.max_file_size, head=True)
    if raw.data is None:
        return []
    data = raw.data
    named = screen(data)
    if not named:
        return []
    index = catalog.modules
    if len(data) <= settings.max_file_size:
        source = decode(data)
        if source.text is not None:
            try:
                return _classify(source.text, rel, settings, catalog)
            except Exception:  # noqa: BLE001 - syntax errors, deep nesting: fail closed below
                pass
    # Unreadable here: every constant it may name counts as used bare (judged at its
    # definition, as before this pass existed).
    bare = tuple(sorted(key for key in index.constants if key.rsplit(".", 1)[-1] in named))
    return [NameUseFact(rel, bare=bare, bare_unscoped=bare)] if bare else []


def _classify(text: str, rel: str, settings: Settings, catalog: TenantCatalog) -> list:
    from tenantlint.visit import walk_batched

    tree = parse_module(text)
    ctx = FileContext(path=rel, source=text, settings=settings, catalog=catalog, module=tree,
                      module_name=module_name(rel))
    probe = _probe_class()(ctx)
    walk_batched(tree, [probe])
    probe.finish()
    folded: set[str] = set()
    bare: set[str] = set()
    unscoped: set[str] = set()
    for node in ast.walk(tree):
        if type(node) not in (ast.Name, ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        shared = probe.imported_constant(node)
        if shared is None:
            continue
        key = f"{shared.module}.{shared.name}"
        if id(node) in probe.folded:
            folded.add(key)
        else:
            bare.add(key)
            if not ctx.in_scope_provider(node):
                unscoped.add(key)
    if not folded and not bare:
        return []
    return [NameUseFact(rel, tuple(sorted(folded)), tuple(sorted(bare)), tuple(sorted(unscoped)))]


def _probe_class():
    """The SQL checker, judging nothing, noting which imported constants it folds."""
    if "probe" not in _SCREENS:
        from tenantlint.rules.sql_checker import SqlChecker

        class Probe(SqlChecker):
            def __init__(self, ctx) -> None:
                super().__init__(ctx)
                self.folded: set[int] = set()

            def _imported(self, node):
                found = super()._imported(node)
                if found is not None:
                    self.folded.add(id(node))
                return found

            def _judge(self, *args, **kwargs) -> None:
                return None

        _SCREENS["probe"] = Probe
    return _SCREENS["probe"]
