"""The catalog pass's last step: a summary of every project function that touches a
tenant model (tenantlint.orm.summaries), computed once the tenant models are known.

Files are screened on their bytes (a tenant model's name, or a class that binds one),
parsed, and each module-level function and method of a module-level class is followed
by the ORM checker's own flow, several times when it has optional parameters: with all
of them None, all given, and each one given alone. What differs is what the parameter
scopes (rule 2); what the function returns unexecuted makes it a builder (rule 3).
Helpers calling helpers are summarized on demand (a cycle is unknown). Then every file
that names an interesting function is read for its calls: a helper nobody calls is
judged in its body (rule 2, last sentence).

The result is cached as one entry keyed by the catalog and the state (`stat`) of every
Python file of the project: a warm run reads no file for it; any change recomputes it."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from pathlib import Path

from tenantlint.cache import _stamp, stable_digest
from tenantlint.context import FileContext
from tenantlint.files import module_name
from tenantlint.orm.calls import CallJudge
from tenantlint.orm.checker import OrmChecker, _screen_words, _self_name
from tenantlint.orm.pyast import top_classes
from tenantlint.orm.shapes import filters_by_keywords, parameters, query_params, statements, tested_names
from tenantlint.orm.state import Root, State, judge
from tenantlint.orm.summaries import FunctionIndex, Summary, defaults_of as _defaults, resolve_call, short
from tenantlint.source import read_source
from tenantlint.grammar import parse as parse_module

# A file worth summarizing names a tenant model and something that runs a query.
_QUERYISH = re.compile(rb"select\(|query|objects|_manager|\.get\(|\.get_by_id|get_or_none|\.filter|\.where\("
                       rb"|\.delete\(|\.update\(|get_object_or_404|\.execute\(|\.scalars?\(")
_ROUNDS = 3  # helpers of helpers of helpers, found in files that name the previous round's
_MAX_OPTIONAL = 6
_ACTORS = frozenset({"actor", "user", "current_user", "owner", "account", "principal", "request", "identity",
                     "member", "membership", "scope", "context", "ctx"})  # optional parameters followed one by one (more: the tested ones only)


def model_ancestors(facts, tenant_models) -> dict[str, frozenset[str]]:
    """ORM class (short name) -> the tenant models that are it or derive from it: what
    `cls` stands for in its classmethods, from the ORM discoverers' facts. Every ORM
    class has an entry (empty for a global model: a call through it reads no tenant model)."""
    by_name: dict[str, set[str]] = {}
    for fact in facts:
        by_name.setdefault(fact.name, set()).update(short(b) for b in fact.bases)
    def lineage(name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            for base in by_name.get(todo.pop(), ()):
                if base not in seen:
                    seen.add(base)
                    todo.append(base)
        return seen

    out: dict[str, set[str]] = {}
    for model in tenant_models:
        for name in lineage(model):
            out.setdefault(name, set()).add(model)
    # A class sharing an ancestor with tenant models is a model class too (a global one
    # has no tenant model: a call through it reads none); any other class, no entry.
    for name in by_name:
        if name not in out and lineage(name) & set(out):
            out[name] = set()
    return {name: frozenset(models) for name, models in out.items()}


def build_function_index(paths: list[Path], rels: list[str], catalog, settings, memo=None,
                         ancestors: dict[str, frozenset[str]] | None = None) -> FunctionIndex:
    if not catalog.models:
        return FunctionIndex()
    pys = [(p, r) for p, r in zip(paths, rels) if p.suffix in (".py", ".pyi")]
    key = None
    if memo is not None and getattr(memo, "store", None) is not None and memo.store.usable:
        key = stable_digest((memo.key, catalog.tenant_columns, catalog.models, catalog.orm, catalog.global_tables,
                             ancestors))
    stamps = {r: _stamp(p) for p, r in pys}
    prev = memo.store.load("summaries", key) if key is not None else None
    if isinstance(prev, _Saved) and prev.stamps == stamps:
        return prev.index
    builder = _Builder(pys, catalog, settings, ancestors)
    index = builder.update(prev, stamps) if isinstance(prev, _Saved) else None
    if index is None:
        builder = _Builder(pys, catalog, settings, ancestors)
        index = builder.build()
    if key is not None:
        memo.store.save("summaries", key, _Saved(stamps, index, builder.entries(prev, index)))
    return index


@dataclass(frozen=True)
class _Entry:
    """What one file contributes to the index (for an incremental rebuild)."""

    defined: frozenset[str] = frozenset()
    classes: tuple = ()  # (qualified class, bases)
    summaries: tuple = ()  # (qualified function, Summary) of those that have one
    called: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Saved:
    stamps: dict
    index: FunctionIndex
    files: dict  # rel -> _Entry


class _File:
    def __init__(self, path: Path, rel: str, tree: ast.Module, ctx: FileContext, checker: OrmChecker) -> None:
        self.path, self.rel, self.tree, self.ctx, self.checker = path, rel, tree, ctx, checker


class _Lazy(dict):
    """qualified name -> Summary, computed on first lookup (the flow resolves calls into it)."""

    def __init__(self, builder: "_Builder") -> None:
        super().__init__()
        self.builder = builder

    def get(self, key, default=None):
        if key in self:
            return self[key]
        found = self.builder.summary(key)
        return found if found is not None else default


class _Builder:
    def __init__(self, pys, catalog, settings, ancestors: dict[str, frozenset[str]] | None = None) -> None:
        self.pys, self.catalog, self.settings = pys, catalog, settings
        self.ancestors = {name: models for name, models in (ancestors or {}).items()}
        self.files: dict[str, _File] = {}
        self.functions: dict[str, tuple[_File, ast.AST, str]] = {}  # qualname -> (file, node, owner)
        self.classes: dict[str, tuple[str, ...]] = {}
        self.summaries = _Lazy(self)
        self.busy: set[str] = set()
        self.index = FunctionIndex()
        self.data: dict[Path, bytes] = {}
        self.paired: set[str] = set()  # functions named like a sibling (`get` / `get_for_team`)
        self.opaque: set[str] = set()
        self.prior_defined: frozenset[str] = frozenset()  # functions of unchanged files (incremental)
        self.called_by: dict[str, set[str]] = {}  # rel -> interesting functions it calls
        self.changed: set[str] | None = None  # the files an incremental rebuild re-read
        self.call_words: frozenset[str] = frozenset()  # interesting helpers found so far (and their classes)

    # -- files --------------------------------------------------------------
    def _read(self, path: Path) -> bytes:
        if path not in self.data:
            try:
                self.data[path] = path.read_bytes() if path.stat().st_size <= self.settings.max_file_size else b""
            except OSError:
                self.data[path] = b""
        return self.data[path]

    def _screen(self, words: set[str], queries: bool = False, files=None) -> list[tuple[Path, str]]:
        """Files naming one of `words` (and, with `queries`, something that runs a query)."""
        if not words:
            return []
        pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in sorted(words)) + rb")\b")
        out = []
        for p, r in (self.pys if files is None else files):
            if files is None and r in self.files:
                continue
            data = self._read(p)
            if pattern.search(data) and (not queries or _QUERYISH.search(data)):
                out.append((p, r))
        return out

    def _load(self, path: Path, rel: str) -> _File | None:
        source = read_source(path, self.settings.max_file_size)
        if source.text is None:
            return None
        try:
            tree = parse_module(source.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        ctx = FileContext(path=rel, source=source.text, settings=self.settings, catalog=self.catalog, module=tree,
                          module_name=module_name(rel))
        checker = OrmChecker(ctx)
        return _File(path, rel, tree, ctx, checker) if checker.active else None

    def _add(self, loaded: list[_File]) -> None:
        for f in loaded:
            self.files[f.rel] = f
            module = f.ctx.module_name
            imports = f.ctx.imports
            for stmt in f.tree.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and module:
                    self.functions[f"{module}.{stmt.name}"] = (f, stmt, "")
            for cls in top_classes(f.tree):
                qual = f"{module}.{cls.name}" if module else cls.name
                bases = tuple(q for q in (imports.qualify(b.value if isinstance(b, ast.Subscript) else b)
                                          for b in cls.bases) if q)
                self.classes[qual] = bases
                for stmt in cls.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions[f"{qual}.{stmt.name}"] = (f, stmt, qual)

    def _refresh(self) -> None:
        """The index as known so far (classes, functions, `cls` models)."""
        self.paired = set()
        for qual in self.functions:
            owner, _, name = qual.rpartition(".")
            for i, char in enumerate(name):
                if char == "_" and i and f"{owner}.{name[:i]}" in self.functions:
                    self.paired.update((qual, f"{owner}.{name[:i]}"))
        by_short: dict[str, list[str]] = {}
        for qual in self.classes:
            by_short.setdefault(short(qual), []).append(qual)
        for qual, bases in list(self.classes.items()):
            fixed = []
            for base in bases:
                if base not in self.classes and len(by_short.get(short(base), ())) == 1:
                    base = by_short[short(base)][0]  # re-exported: `from app.models import Base`
                fixed.append(base)
            self.classes[qual] = tuple(fixed)
        self.index = FunctionIndex(functions=self.summaries, defined=frozenset(self.functions) | self.prior_defined,
                                   classes=dict(self.classes), class_models=self._class_models(),
                                   unique={n: tuple(sorted(qs)) for n, qs in by_short.items()})
        for f in self.files.values():
            f.checker.functions = self.index
            f.checker.call_judge = CallJudge(f.checker)
            if not self.call_words <= f.checker.names:
                f.checker.names = f.checker.names | self.call_words
                f.checker._names_bytes = frozenset(n.encode() for n in f.checker.names)
            f.checker._owners.clear()
            f.checker._methods.clear()
            for cls in top_classes(f.tree):
                f.checker.visit_ClassDef(cls)
            f.checker.observed = {}

    def _class_models(self) -> dict[str, frozenset[str]]:
        tenant = set(self.catalog.models)
        children: dict[str, set[str]] = {}
        for qual, bases in self.classes.items():
            for base in bases:
                children.setdefault(base, set()).add(qual)

        def below(qual: str) -> set[str]:
            out, todo = {qual}, [qual]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in out:
                        out.add(child)
                        todo.append(child)
            return out

        def above(qual: str) -> set[str]:
            out, todo = {qual}, [qual]
            while todo:
                for base in self.classes.get(todo.pop(), ()):
                    if base not in out:
                        out.add(base)
                        todo.append(base)
            return out

        tenant_classes = [q for q in self.classes if short(q) in tenant]
        modelish: set[str] = set()
        for q in tenant_classes:
            modelish |= above(q)
        out: dict[str, frozenset[str]] = {}
        for qual in self.classes:
            if not (above(qual) & modelish):
                continue
            models = frozenset(short(q) for q in below(qual) if short(q) in tenant)
            out[short(qual)] = out.get(short(qual), frozenset()) | models
        for name, models in self.ancestors.items():  # the ORM's own view, across every file
            out[name] = out.get(name, frozenset()) | models
        return out

    # -- summaries ----------------------------------------------------------
    def build(self) -> FunctionIndex:
        bases = {name for name, models in self.ancestors.items() if models}
        words = set(_screen_words(self.catalog)) | bases
        self.call_words = frozenset(bases)  # `cls` in their classmethods is a tenant model
        for round_ in range(_ROUNDS):
            # The checker screens files by the catalog's words: this round's too.
            self.catalog.functions = replace(self.index, words=frozenset(words))
            todo = self._screen(words, queries=round_ == 0)
            loaded = [f for f in (self._load(p, r) for p, r in todo) if f is not None]
            if not loaded:
                break
            self._add(loaded)
            self._refresh()
            for name in list(self.functions):
                self.summary(name)
            found = [s for s in dict.values(self.summaries) if s is not None and s.interesting()]
            words = {s.short for s in found} | {short(s.owner) for s in found if s.owner}
            new = frozenset(words) - self.call_words
            if not new:
                break
            # Helpers calling the helpers just found: follow those calls (next round's files
            # too) and summarize again the functions of files that name them.
            self.call_words |= new
            again = {r for _, r in self._screen(set(new), files=[(f.path, f.rel) for f in self.files.values()])}
            for qual, (f, _, _) in self.functions.items():
                if f.rel in again:
                    dict.pop(self.summaries, qual, None)
            self._refresh()
            for name in list(self.functions):
                self.summary(name)
        return self._finish()

    def summary(self, name: str) -> Summary | None:
        if name in self.summaries:
            return dict.__getitem__(self.summaries, name)
        entry = self.functions.get(name)
        if entry is None or name in self.busy:
            return None  # unknown, or a cycle: unknown
        self.busy.add(name)
        try:
            found = self._summarize(name, *entry)
        except RecursionError:
            found = None
        finally:
            self.busy.discard(name)
        dict.__setitem__(self.summaries, name, found)
        return found

    def _tenantish(self, param: str) -> int:
        """0 for a parameter named like the tenant or the acting user (followed first)."""
        stems = {c[:-3] if c.endswith("_id") else c for c in self.catalog.tenant_columns}
        lowered = param.lower()
        return 0 if any(stem and stem in lowered for stem in stems) or lowered in _ACTORS else 1

    def _returns_query(self, f: _File, node) -> bool:
        """Does a `return` (or what a returned name was assigned) name a model or helper?"""
        assigned: dict[str, list[ast.stmt]] = {}
        returns = []
        for sub in statements(node.body):
            if isinstance(sub, ast.Return) and sub.value is not None:
                returns.append(sub)
            elif isinstance(sub, ast.Assign):
                for target in sub.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(sub)
        for ret in returns:
            if f.checker._relevant(ret, {}):
                return True
            if isinstance(ret.value, ast.Name) and any(f.checker._relevant(a, {}) for a in assigned.get(ret.value.id, ())):
                return True
        return False

    def _run(self, f: _File, node, assume: dict[str, bool]):
        """(unscoped model -> code, scoped models, returned states) of one run; models read
        under a filter it cannot read are in `self.opaque`."""
        checker = f.checker
        saved, checker.observed = checker.observed, {}
        returned: list = []
        try:
            checker.analyze(node, assume, returning=returned.append, defaults=_defaults(node))
            observed = checker.observed
        finally:
            checker.observed = saved
        unscoped: dict[str, str] = {}
        scoped: set[str] = set()
        for root, states in observed.values():
            verdict = judge(states, checker.always, checker.always_reads)
            if verdict is None:
                scoped |= {m for s in states for m in s.models}
            elif verdict.code == "TL002":
                self.opaque |= set(verdict.models)
            else:
                for model in verdict.models:
                    unscoped[model] = "TL202" if verdict.code == "TL202" or unscoped.get(model) == "TL202" else "TL201"
        states = frozenset(s for group in returned for s in group if not s.dropped)
        return unscoped, frozenset(scoped), states

    def _summarize(self, name: str, f: _File, node, owner: str) -> Summary | None:
        params, kwonly, optional = parameters(node)
        if optional:
            tested = tested_names(node)
            optional = sorted((p for p in optional if p in tested), key=self._tenantish)[:_MAX_OPTIONAL]
        # Only what can matter at a call is followed: a tenant-optional candidate, a
        # function returning something that names a query, or one of a pair of siblings.
        code = f.ctx.code_for(node)
        candidates = query_params(node, code, params)
        by_keywords = node.args.kwarg is not None and filters_by_keywords(code, node.args.kwarg.arg)
        if not (optional or candidates or by_keywords or name in self.paired or self._returns_query(f, node)) \
                or not f.checker.mentions(node):
            return None
        defaults = _defaults(node)
        narrows = tuple(self._narrows(f, node, candidates, defaults))
        self.opaque = set()
        base, scoped, returned = self._run(f, node, {p: False for p in optional})
        if not base and not scoped and not returned and not narrows and not self.opaque:
            return None
        kwargs = frozenset()
        if by_keywords:
            kwargs = frozenset(base) | frozenset(self.opaque) | frozenset(m for s in returned for m in s.models)
        reads, per_param, returns_optional = dict(base), [], []
        returns_scoped = _scoped_in(returned)
        if optional:
            every, scoped_all, _ = self._run(f, node, {p: True for p in optional})
            reads = every
            scoped |= scoped_all
            for param in optional:
                alone, _, given_returned = self._run(f, node, {p: p == param for p in optional})
                lifted = frozenset(m for m in base if m not in alone)
                if lifted:
                    per_param.append((param, lifted))
                extra = _scoped_in(given_returned) - returns_scoped
                if extra:
                    returns_optional.append((param, extra))
        framework = next((s.root.framework for s in returned), "")
        return Summary(
            name=name, module=f.ctx.module_name, owner=owner, params=params, kwonly=kwonly,
            reads=frozenset(reads), bulk=any(code == "TL202" for code in base.values()),
            scoped_reads=frozenset(scoped) - frozenset(reads), optional=tuple(per_param),
            returns=frozenset(m for s in returned for m in s.models) if returned and framework else None,
            returns_scoped=returns_scoped, returns_optional=tuple(returns_optional), narrows=narrows, kwargs=kwargs,
            narrow_defaults=tuple((p, params.index(p) if p in params else -1, text) for p, text in defaults.items()
                                  if p in tested_names(node)) if narrows else ())

    def _narrows(self, f: _File, node, candidates, defaults):
        """For each parameter that receives a query: the models the returned query has
        scoped when the function runs with its other parameters at their defaults."""
        held, bound = f.checker._methods.get(id(node), ({}, {}))
        me = _self_name(node) if id(node) in f.checker._owners else None
        models = bound.get(me) if me else None
        models = models or frozenset(self.catalog.models)
        framework = _framework(self.catalog, models)
        for position, param in candidates:
            root = Root(node, framework)
            seed = {param: frozenset({State(root, frozenset(models))})}
            returned: list = []
            saved, f.checker.observed = f.checker.observed, {}
            try:
                f.checker.analyze(node, {}, returning=returned.append, seed=seed, defaults=defaults)
            finally:
                f.checker.observed = saved
            states = [s for group in returned for s in group if s.root is root]
            scoped = _scoped_in(states) & frozenset(models) if states else frozenset()
            if scoped:
                yield position, param, scoped

    # -- incremental --------------------------------------------------------
    def update(self, prev: _Saved, stamps: dict) -> FunctionIndex | None:
        """The index after some files changed, when what they offer to other files (their
        summaries judged at calls, their classes) is unchanged; None: rebuild everything."""
        changed = {r for r in stamps if prev.stamps.get(r) != stamps[r]} | (set(prev.stamps) - set(stamps))
        self.changed = changed
        kept = {r: e for r, e in prev.files.items() if r not in changed and r in stamps}
        self.prior_defined = frozenset(q for e in kept.values() for q in e.defined)
        for entry in kept.values():
            self.classes.update(dict(entry.classes))
            for qual, summary in entry.summaries:
                dict.__setitem__(self.summaries, qual, summary)
        words = set(_screen_words(self.catalog)) | {n for n, m in self.ancestors.items() if m} | set(prev.index.words)
        self.call_words = frozenset(prev.index.words)
        self.catalog.functions = replace(prev.index, words=frozenset(words))
        todo = self._screen(words, files=[(p, r) for p, r in self.pys if r in changed])
        loaded = [f for f in (self._load(p, r) for p, r in todo) if f is not None]
        self._add(loaded)
        self._refresh()
        for name in list(self.functions):
            self.summary(name)
        mine = {q: v for q, (f, _, _) in self.functions.items()
                if (v := dict.get(self.summaries, q)) is not None}
        _siblings(mine)
        new = {q: v for q, v in mine.items() if v.interesting()}
        old = {q: v for r in changed if r in prev.files for q, v in prev.files[r].summaries if v.interesting()}
        old_classes = {q: b for r in changed if r in prev.files for q, b in prev.files[r].classes}
        new_classes = {q: b for q, b in self.classes.items() if any(q == c for f in loaded for c in _class_names(f))}
        if new != old or new_classes != old_classes:
            return None
        for qual, summary in mine.items():
            dict.__setitem__(self.summaries, qual, summary)
        names = {s.short for s in prev.index.functions.values()}
        called = {q for e in kept.values() for q in e.called}
        self.catalog.functions = replace(prev.index, words=frozenset(names))
        for f in self.files.values():
            if names and self._screen(names, files=[(f.path, f.rel)]):
                self.called_by[f.rel] = _calls_in(f, prev.index)
                called |= self.called_by[f.rel]
        for p, r in self._screen(names, files=[(p, r) for p, r in self.pys if r in changed and r not in self.files]):
            f = self._load(p, r)
            if f is not None:
                self.called_by[r] = _calls_in(f, prev.index)
                called |= self.called_by[r]
        return replace(prev.index, defined=frozenset(self.functions) | self.prior_defined,
                       called=frozenset(called & set(prev.index.functions)))

    def entries(self, prev: _Saved | None, index: FunctionIndex) -> dict:
        """rel -> _Entry, for the next incremental rebuild."""
        out = {}
        if isinstance(prev, _Saved) and self.changed is not None:
            out = {r: e for r, e in prev.files.items() if r not in self.changed}
        by_file: dict[str, list[str]] = {}
        for qual, (f, _, _) in self.functions.items():
            by_file.setdefault(f.rel, []).append(qual)
        for rel, f in self.files.items():
            quals = by_file.get(rel, [])
            summaries = tuple((q, s) for q in quals if (s := dict.get(self.summaries, q)) is not None)
            if index.functions:
                summaries = tuple((q, index.functions.get(q, s)) for q, s in summaries)
            out[rel] = _Entry(frozenset(quals), tuple((q, self.classes[q]) for q in _class_names(f) if q in self.classes),
                              summaries, frozenset(self.called_by.get(rel, ())))
        for _, rel in self.pys:
            out.setdefault(rel, _Entry())
        return out

    # -- callers, siblings --------------------------------------------------
    def _finish(self) -> FunctionIndex:
        summaries = {k: v for k, v in dict.items(self.summaries) if v is not None}
        _siblings(summaries)
        interesting = {k: v for k, v in summaries.items() if v.interesting()}
        words = {s.short for s in interesting.values()} | {short(s.owner) for s in interesting.values() if s.owner}
        # Classes whose classmethods' `cls` is a tenant model: their bodies are judged too.
        words |= {name for name, models in self.ancestors.items() if models}
        index = FunctionIndex(functions=interesting, defined=frozenset(self.functions), classes=dict(self.classes),
                              class_models=self.index.class_models, unique=self.index.unique)
        called: set[str] = set()
        self.catalog.functions = replace(index, words=frozenset({s.short for s in interesting.values()}))
        if interesting:
            for p, r in self._screen({s.short for s in interesting.values()}):
                f = self._load(p, r)
                if f is not None:
                    self.files[r] = f
            names = {s.short for s in interesting.values()}
            callers = {r for _, r in self._screen(names, files=[(f.path, f.rel) for f in self.files.values()])}
            for f in self.files.values():
                if f.rel in callers:
                    self.called_by[f.rel] = _calls_in(f, index)
                    called |= self.called_by[f.rel]
        # Subclasses of the owners are named at calls (`WidgetRepository(s).read`).
        children = {q for q, bases in self.classes.items()
                    if any(short(b) in words for b in bases)}
        words |= {short(q) for q in children}
        return FunctionIndex(functions=interesting, defined=index.defined, classes=index.classes,
                             called=frozenset(called & set(interesting)), class_models=index.class_models,
                             words=frozenset(words), unique=index.unique)


def _class_names(f: _File) -> list[str]:
    module = f.ctx.module_name
    return [f"{module}.{c.name}" if module else c.name for c in top_classes(f.tree)]


def _siblings(summaries: dict[str, Summary]) -> None:
    """Rule 4: `get_by_id` (unscoped) beside `get_by_id_and_org` (scoped, same models)."""
    by_owner: dict[str, list[Summary]] = {}
    for s in summaries.values():
        by_owner.setdefault(s.owner or s.module, []).append(s)
    for group in by_owner.values():
        for s in group:
            if not s.reads or s.optional:
                continue
            for other in group:
                if other is not s and other.short.startswith(s.short + "_") and not other.reads \
                        and s.reads <= other.scoped_reads:
                    summaries[s.name] = replace(s, sibling=other.name)
                    break


def _scoped_in(states) -> frozenset[str]:
    """Models scoped in every returned query that has them."""
    out: set[str] = set()
    models = {m for s in states for m in s.models}
    for model in models:
        if all(model not in s.unscoped() for s in states if model in s.models):
            out.add(model)
    return frozenset(out)


def _framework(catalog, models) -> str:
    kinds = [catalog.orm[m].framework for m in models if m in catalog.orm and catalog.orm[m].framework]
    return max(set(kinds), key=kinds.count) if kinds else "sqlalchemy"


def _calls_in(f: _File, index: FunctionIndex) -> set[str]:
    """Qualified interesting functions this file calls."""
    out: set[str] = set()
    imports = f.ctx.imports
    qualify = imports.qualify if imports is not None else (lambda n: None)
    module = f.ctx.module_name

    def scan(body, owner: str, me: str | None) -> None:
        values: dict[str, ast.expr] = {}
        for sub in _walk_body(body):
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                values[sub.targets[0].id] = sub.value
            elif isinstance(sub, ast.Call):
                target = resolve_call(sub, index, qualify, owner, me, lambda n: values.get(n.id, n)
                                      if isinstance(n, ast.Name) else n)
                if target is not None:
                    out.add(target.summary.name)

    for stmt in f.tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scan(stmt.body, "", None)
    for cls in top_classes(f.tree):
        owner = f"{module}.{cls.name}" if module else cls.name
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                scan(stmt.body, owner, _self_name(stmt))
    scan([s for s in f.tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))],
         "", None)
    return out


def _walk_body(body):
    """Statements and expressions in order, nested definitions' bodies included
    (a nested function's calls are calls too)."""
    for stmt in body:
        yield from ast.walk(stmt)
