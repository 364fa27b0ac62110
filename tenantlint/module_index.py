"""Names one module of the project binds and other modules import, as the catalog pass
records them (`tenantlint/discover/module_names.py`): store handles, factories whose
return annotation names a client (kind `returns:<kind>`), and SQL string constants. Part of the TenantCatalog (`TenantCatalog.modules`), so part of its
fingerprint: a changed shared constant or handle re-checks the files that use it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from tenantlint.words import words_of


@dataclass(frozen=True)
class ModuleNamesFact:
    """Module-level names of one Python module that other modules may import: names bound
    to a handle of the API catalog (`kb_index = pc.Index("kb")`: kind, and whether the
    handle is tenant-scoped) and string constants (their text as the SQL checker recovers
    it: pieces of text and holes). Only names bound once, unconditionally."""

    path: str
    module: str
    handles: tuple[tuple[str, str, bool], ...] = ()  # (name, kind or "returns:<kind>" for a factory, scoped)
    constants: tuple[tuple[str, tuple, int], ...] = ()  # (name, pieces, line)


@dataclass(frozen=True)
class NameUseFact:
    """How one module uses string constants of other modules (qualified names): folded
    into a larger string (judged there), or used otherwise (judged at the definition)."""

    path: str
    folded: tuple[str, ...] = ()
    bare: tuple[str, ...] = ()
    bare_unscoped: tuple[str, ...] = ()  # bare uses outside a scope provider


@dataclass(frozen=True)
class SharedConstant:
    """A module-level string constant that other modules use."""

    module: str
    name: str
    pieces: tuple
    path: str
    line: int
    folded: bool = False  # folded into a larger string in another module
    bare: bool = False  # used as it is in another module
    bare_unscoped: bool = False


@dataclass
class ModuleIndex:
    """Names other modules import, by qualified name (`app.clients.kb_index`): handles,
    and the string constants some other module uses. An import written from another root
    (`app.clients` for `backend/app/clients.py`) matches by dotted suffix when unambiguous."""

    handles: dict[str, tuple[str, bool]] = field(default_factory=dict)  # -> (kind, scoped)
    constants: dict[str, SharedConstant] = field(default_factory=dict)
    # dotted suffixes shared by two constants of the project, used by others or not
    ambiguous: frozenset[str] = frozenset()

    def __getstate__(self) -> dict:
        return {"handles": self.handles, "constants": self.constants, "ambiguous": self.ambiguous}  # no memos

    def handle(self, qualified: str | None) -> tuple[str, bool] | None:
        return _by_name(self.handles, qualified, self, "_handle_suffixes")

    def constant(self, qualified: str | None) -> SharedConstant | None:
        if qualified in self.ambiguous and qualified not in self.constants:
            return None
        return _by_name(self.constants, qualified, self, "_constant_suffixes")

    def mentions(self, source: str, names: str) -> bool:
        """Whether `source` names one of `names` ("handles" or "constants") and its module
        (`from app.clients import kb_index`, `clients.kb_index`: the name as a word and
        the last part of the module's name): a cheap screen before a file is parsed."""
        memo = self.__dict__.setdefault("_screens", {})
        if names not in memo:
            tails: dict[str, set[str]] = {}
            for key in getattr(self, names):
                module, _, name = key.rpartition(".")
                tails.setdefault(name, set()).add(module.rsplit(".", 1)[-1])
            pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(tails))) + r")\b") if tails else None
            memo[names] = (pattern, tails)
        pattern, tails = memo[names]
        if pattern is None:
            return False
        # The file's words (computed once for all screens) hold every ASCII name `\b` finds.
        found = words_of(source) & tails.keys() if _ascii(tails) else set(pattern.findall(source))
        return any(tail in source for name in found for tail in tails[name])


def _ascii(names) -> bool:
    return all(name.isascii() for name in names)


def _by_name(table: dict, qualified: str | None, owner: ModuleIndex, memo: str):
    """`table[qualified]`, else the one entry whose key ends with `.qualified`."""
    if not qualified or "." not in qualified:
        return None
    found = table.get(qualified)
    if found is not None or not table:
        return found
    suffixes = owner.__dict__.get(memo)
    if suffixes is None:
        suffixes = {}
        for key, value in table.items():
            parts = key.split(".")
            for i in range(1, len(parts) - 1):
                tail = ".".join(parts[i:])
                suffixes[tail] = value if suffixes.get(tail, value) == value else _AMBIGUOUS
        owner.__dict__[memo] = suffixes
    found = suffixes.get(qualified)
    return None if found is _AMBIGUOUS else found


_AMBIGUOUS = object()


def index_modules(facts: Iterable[object], *, every_constant: bool = False) -> ModuleIndex:
    """The ModuleIndex of a project from its ModuleNamesFacts and NameUseFacts: every
    handle, and the constants that another module uses (`every_constant`: all of them,
    for the discovery step that finds those uses)."""
    facts = list(facts)
    index = ModuleIndex()
    folded: set[str] = set()
    bare: set[str] = set()
    unscoped: set[str] = set()
    for fact in facts:
        if isinstance(fact, NameUseFact):
            folded.update(fact.folded)
            bare.update(fact.bare)
            unscoped.update(fact.bare_unscoped)
    names = [f for f in facts if isinstance(f, ModuleNamesFact)]
    paths: dict[str, set[str]] = {}
    for fact in names:
        paths.setdefault(fact.module, set()).add(fact.path)
    tails: dict[str, set[str]] = {}
    for fact in names:
        if not fact.module or len(paths[fact.module]) > 1:
            continue  # two files are this module (`a.py` and `a/__init__.py`): which one is imported?
        for name, _pieces, _line in fact.constants:
            parts = f"{fact.module}.{name}".split(".")
            for i in range(1, len(parts) - 1):
                tails.setdefault(".".join(parts[i:]), set()).add(fact.module)
        for name, kind, scoped in fact.handles:
            index.handles[f"{fact.module}.{name}"] = (kind, scoped)
        for name, pieces, line in fact.constants:
            key = f"{fact.module}.{name}"
            if every_constant or key in folded or key in bare:
                index.constants[key] = SharedConstant(
                    fact.module, name, tuple(pieces), fact.path, line, folded=key in folded,
                    bare=key in bare, bare_unscoped=key in unscoped)
    index.ambiguous = frozenset(tail for tail, modules in tails.items() if len(modules) > 1)
    return index
