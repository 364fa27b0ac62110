"""The summary pass proper: which project functions get a summary, in rounds.

Round 0 screens the files that name a tenant model (or a class binding one) and run a
query; every function and method there is offered for a summary. Helpers calling the
helpers just found are summarized in the next rounds (files naming them), and helpers
of helpers on demand while following (a cycle is unknown). What a file defines comes
from its catalog facts; a file is parsed only when one of its functions passes the
shape and mention tests that `_summarize` would apply (tenantlint.orm.summary_files).
Who calls an interesting helper comes from the call facts (tenantlint.callgraph): no
caller is read again."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from tenantlint.callgraph import FunctionFact, ModuleFunctions, reexported, resolve
from tenantlint.orm.checker import SHORTCUT_WORDS, _screen_words
from tenantlint.orm.index import bound_attributes
from tenantlint.orm.summaries import FunctionIndex, Summary, short
from tenantlint.orm.summary_files import SummaryFile
from tenantlint.orm.summary_of import FollowFunctions, _siblings
from tenantlint.pool import Twin

# A file worth summarizing names a tenant model and something that runs a query.
_QUERYISH = re.compile(rb"select\(|query|objects|_manager|\.get\(|\.get_by_id|get_or_none|\.filter|\.where\("
                       rb"|\.delete\(|\.update\(|get_object_or_404|\.execute\(|\.scalars?\(")
_RUNS = re.compile(rb"[A-Za-z0-9_]+")  # maximal runs of the characters `\b` separates
_ROUNDS = 3  # helpers of helpers of helpers, found in files that name the previous round's
_SPLIT_MIN = 200  # functions to summarize before a twin's share is worth trading
_TWIN_WAIT = 60.0  # seconds the twin may take over its share at least, however fast this side was


@dataclass(frozen=True)
class Entry:
    """What one file contributes to the index (for an incremental rebuild)."""

    defined: frozenset[str] = frozenset()
    classes: tuple = ()  # (qualified class, bases)
    summaries: tuple = ()  # (qualified function, Summary) of those that have one


@dataclass(frozen=True)
class Saved:
    stamps: dict
    index: FunctionIndex
    files: dict  # rel -> Entry


class _Lazy(dict):
    """qualified name -> Summary, computed on first lookup (the flow resolves calls into it)."""

    def __init__(self, builder: "Builder") -> None:
        super().__init__()
        self.builder = builder

    def get(self, key, default=None):
        if key in self:
            return self[key]
        found = self.builder.summary(key)
        return found if found is not None else default


class Builder(FollowFunctions):
    def __init__(self, pys, modules: Mapping[str, ModuleFunctions], catalog, settings,
                 ancestors: dict[str, frozenset[str]] | None = None, jobs: int = 1) -> None:
        self.pys, self.modules, self.catalog, self.settings = pys, modules, catalog, settings
        self.jobs = jobs
        self.sides: dict[str, int] = {}  # file -> the side of a twin pair that follows it
        self.side_bytes = [0, 0]
        self.ancestors = {name: models for name, models in (ancestors or {}).items()}
        self.files: dict[str, SummaryFile] = {}
        self.functions: dict[str, tuple[SummaryFile, FunctionFact, str]] = {}  # qualname -> (file, fact, owner)
        self.classes: dict[str, tuple[str, ...]] = {}
        self.summaries = _Lazy(self)
        self.busy: set[str] = set()
        self.index = FunctionIndex()
        self.version = 0
        self.data: dict[Path, bytes] = {}
        self.words: dict[Path, frozenset[bytes]] = {}
        self.paired: set[str] = set()  # functions named like a sibling (`get` / `get_for_team`)
        self.opaque: set[str] = set()
        self.prior_defined: frozenset[str] = frozenset()  # functions of unchanged files (incremental)
        self.changed: set[str] | None = None  # the files an incremental rebuild re-read
        self.call_words: frozenset[str] = frozenset()  # interesting helpers found so far (and their classes)
        self.bindings = bound_attributes(catalog.orm)
        self.models_bytes = frozenset(n.encode() for n in (*catalog.models, *SHORTCUT_WORDS))

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
        wanted = frozenset(w.encode() for w in words)
        out = []
        for p, r in (self.pys if files is None else files):
            if files is None and r in self.files:
                continue
            if not wanted.isdisjoint(self._words(p)) and (not queries or _QUERYISH.search(self._read(p))):
                out.append((p, r))
        return out

    def _words(self, path: Path) -> frozenset[bytes]:
        """The file's words: `\bword\b` matches in it exactly when `word` is one of them."""
        found = self.words.get(path)
        if found is None:
            found = self.words[path] = frozenset(_RUNS.findall(self._read(path)))
        return found

    def _open(self, todo: list[tuple[Path, str]], words) -> list[SummaryFile]:
        """The screened-in files the catalog pass could parse (the others define nothing)."""
        words = frozenset(words)
        return [SummaryFile(p, r, self.modules[r], words) for p, r in todo if r in self.modules]

    def _add(self, loaded: list[SummaryFile]) -> None:
        for f in loaded:
            self.files[f.rel] = f
            for fact in f.facts.functions:
                self.functions[fact.name] = (f, fact, fact.owner)
            self.classes.update(f.facts.classes)

    def _refresh(self) -> None:
        """The index as known so far (classes, functions, `cls` models)."""
        self.paired = set()
        for qual in self.functions:
            owner, _, name = qual.rpartition(".")
            for i, char in enumerate(name):
                if char == "_" and i and f"{owner}.{name[:i]}" in self.functions:
                    self.paired.update((qual, f"{owner}.{name[:i]}"))
        self.classes, unique = reexported(self.classes)
        self.index = FunctionIndex(functions=self.summaries, defined=frozenset(self.functions) | self.prior_defined,
                                   classes=dict(self.classes), class_models=self._class_models(), unique=unique)
        self.version += 1  # each opened file's checker is set up again when next used

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
        # With more than one job, a forked twin goes through the same rounds and follows
        # about half of each round's files (see `_summarize_all`).
        twin = Twin.start(self._rounds) if self.jobs > 1 else None
        try:
            self._rounds(twin)
        finally:
            if twin is not None:
                twin.close()
        return self._finish()

    def _rounds(self, twin: Twin | None = None) -> None:
        bases = {name for name, models in self.ancestors.items() if models}
        words = set(_screen_words(self.catalog)) | bases
        self.call_words = frozenset(bases)  # `cls` in their classmethods is a tenant model
        for round_ in range(_ROUNDS):
            # The checker screens files by the catalog's words: this round's too.
            self.catalog.functions = replace(self.index, words=frozenset(words))
            todo = self._screen(words, queries=round_ == 0)
            loaded = self._open(todo, words)
            if not loaded:
                break
            self._add(loaded)
            self._refresh()
            self._summarize_all(twin)
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
            self._summarize_all(twin)

    def _summarize_all(self, twin: Twin | None = None) -> None:
        """A summary for every function known so far. With a twin and enough work, each
        side follows the functions of its files (a file keeps its side from round to round,
        so its tree is parsed once) and the two trade their summaries: each side's own
        wins, and a function of the other side that one calls is followed there too (each
        side needs its callees). Both sides hold the same state before and after, so they
        go on through the same rounds. A twin that gives nothing leaves its share here."""
        todo = [name for name in self.functions if not dict.__contains__(self.summaries, name)]
        if twin is None or not twin.alive or len(todo) < _SPLIT_MIN:
            for name in todo:
                self.summary(name)
            return
        halves = self._halves(todo)
        mine, theirs = halves[twin.side], halves[1 - twin.side]
        started = time.monotonic()
        done = {name: self.summary(name) for name in mine}
        found = twin.exchange(done, timeout=max(_TWIN_WAIT, 4 * (time.monotonic() - started)))
        for name in theirs:
            if isinstance(found, dict) and name in found:
                dict.__setitem__(self.summaries, name, found[name])
            else:
                dict.pop(self.summaries, name, None)  # maybe followed here as a callee: again, alone
                self.summary(name)

    def _halves(self, names: list[str]) -> tuple[list[str], list[str]]:
        """`names` split by file between the two sides: a file seen before keeps its side, a
        new one (largest first) goes to the side with fewer bytes so far. Deterministic:
        both sides compute the same split."""
        by_file: dict[str, list[str]] = {}
        for name in names:
            by_file.setdefault(self.functions[name][0].rel, []).append(name)
        new = [f for f in self.files.values() if f.rel in by_file and f.rel not in self.sides]
        for f in sorted(new, key=lambda f: (-len(self._read(f.path)), f.rel)):
            side = 0 if self.side_bytes[0] <= self.side_bytes[1] else 1
            self.sides[f.rel] = side
            self.side_bytes[side] += len(self._read(f.path)) + 1
        halves: tuple[list[str], list[str]] = ([], [])
        for rel, quals in by_file.items():
            halves[self.sides.get(rel, 0)].extend(quals)
        return halves

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

    def _summarize(self, name: str, f: SummaryFile, fact: FunctionFact, owner: str) -> Summary | None:
        """Parse the file and follow the function only when `_summarize_parsed` could
        give it a summary: its shape, and a mention of what the flow follows."""
        if not (fact.shaped or name in self.paired) or not self._may_mention(f, fact):
            return None
        if not f.open(self.catalog, self.settings, self.index, self.call_words, self.version):
            return None
        f.refresh(self.index, self.call_words, self.version)
        return self._summarize_parsed(name, f, f.nodes[name], owner)

    def _may_mention(self, f: SummaryFile, fact: FunctionFact) -> bool:
        """A superset of the checker's `mentions`: a method holding a model through its
        class (a bound attribute, a view's queryset, `cls` of a model), or a word of its
        lines that the checker's screen has."""
        if fact.owner:
            cls = short(fact.owner)
            if self.bindings.get(cls) or fact.name.endswith(".get_queryset") or fact.is_classmethod and \
                    (self.index.class_models.get(cls) or cls in self.catalog.models):
                return True
        if f.names[0] is not self.call_words:
            f.names = (self.call_words, self.models_bytes | frozenset(
                w.encode() for w in (*f.words, *self.call_words,
                                     *(local for local, name in f.facts.renamed if name in self.catalog.models))))
        return f.may_mention(fact, f.names[1], self._read(f.path))

    # -- incremental --------------------------------------------------------
    def update(self, prev: Saved, stamps: dict) -> FunctionIndex | None:
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
        loaded = self._open(todo, words)
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
        new_classes = {q: b for q, b in self.classes.items() if any(q == c for f in loaded for c in f.class_names())}
        if new != old or new_classes != old_classes:
            return None
        for qual, summary in mine.items():
            dict.__setitem__(self.summaries, qual, summary)
        called, receivers = calls_into(prev.index, self.modules.values())
        return replace(prev.index, defined=frozenset(self.functions) | self.prior_defined, called=called,
                       receivers=receivers)

    def entries(self, prev: Saved | None, index: FunctionIndex) -> dict:
        """rel -> Entry, for the next incremental rebuild."""
        out = {}
        if isinstance(prev, Saved) and self.changed is not None:
            out = {r: e for r, e in prev.files.items() if r not in self.changed}
        by_file: dict[str, list[str]] = {}
        for qual, (f, _, _) in self.functions.items():
            by_file.setdefault(f.rel, []).append(qual)
        for rel, f in self.files.items():
            quals = by_file.get(rel, [])
            summaries = tuple((q, s) for q in quals if (s := dict.get(self.summaries, q)) is not None)
            if index.functions:
                summaries = tuple((q, index.functions.get(q, s)) for q, s in summaries)
            out[rel] = Entry(frozenset(quals), tuple((q, self.classes[q]) for q in f.class_names() if q in self.classes),
                             summaries)
        for _, rel in self.pys:
            out.setdefault(rel, Entry())
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
        # Subclasses of the owners are named at calls (`WidgetRepository(s).read`).
        children = {q for q, bases in self.classes.items()
                    if any(short(b) in words for b in bases)}
        words |= {short(q) for q in children}
        called, receivers = calls_into(index, self.modules.values())
        return replace(index, called=called, receivers=receivers, words=frozenset(words))


def calls_into(index: FunctionIndex, modules) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The interesting functions of `index` some project code calls (a function's body,
    a method's, or a module's top-level statements), and for the methods of base model
    classes (whose `cls` stands for several tenant models) the classes they are called
    through: `Page.read(...)` -> Page; `cls.read(...)` in another method -> the classes
    that method is called through; anything else (an instance of unknown type) -> "*"."""
    shorts = {s.short for s in index.functions.values()}
    bases = {name for name, models in index.class_models.items() if len(models) > 1}
    methods = {q.rsplit(".", 1)[-1] for q in index.defined if q.count(".") >= 1 and q.rsplit(".", 2)[-2] in bases}
    if not shorts and not methods:
        return frozenset(), {}
    out: set[str] = set()
    receivers: dict[str, set[str]] = {}
    through: dict[str, set[str]] = {}  # method -> the methods calling it through `self`/`cls`
    for mod in modules:
        for caller, calls in (*((f.name, f.calls) for f in mod.functions), ("", mod.calls)):
            for fact in calls:
                called = short(fact.target) if fact.kind == "function" else fact.attr
                if called not in shorts and called not in methods:
                    continue  # a call runs a function of the name it is called by
                found = resolve(fact, index)
                if found is None:
                    continue
                if found[0] in index.functions:
                    out.add(found[0])
                if called in methods:
                    if fact.kind == "method" and caller:
                        through.setdefault(found[0], set()).add(caller)
                    else:
                        receivers.setdefault(found[0], set()).add(short(found[1]) if found[1] else "*")
    changed = True
    while changed:
        changed = False
        for method, callers in through.items():
            mine = receivers.setdefault(method, set())
            for caller in callers:
                theirs = receivers.get(caller) or {"*"}  # a method nothing calls: any class
                if not theirs <= mine:
                    mine |= theirs
                    changed = True
    return frozenset(out), {name: frozenset(r) for name, r in receivers.items()}
