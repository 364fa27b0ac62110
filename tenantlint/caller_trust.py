"""Is a parameter trusted because every call in the project passes a trusted value?
(SPEC "Indirect tenancy and trusted ids": with no caller in the project it is not;
request input never is.)

The catalog pass recorded what each call site passes, word by word
(tenantlint/discover/call_sites.py); here the sites are resolved to the project
functions they run (tenantlint/callgraph.py: imports, `self`/`cls` methods through the
bases, instances) and the question is solved for one (function, parameter) when first
asked: trusted when the function has a call and at every call the argument that fills the
parameter is trusted there, omitted (its default), or a parameter of the caller that is
trusted in turn (a pytest test's parameters are fixtures: trusted); an attribute of an
object in hand when a model of the project has a foreign key or relation of that name; a
local name when a verifier of the project (tenantlint/discover/verifiers.py) checked it
earlier in the caller. A call written with the import path of a source root
(`from tasks.models import x` for `app.tasks.models.x`) is resolved to the one function
of the project whose name ends so. Not trusted: a `*args` or `**kwargs` that may fill
it, a request entry point, a cycle, or a method of that name called somewhere through a
receiver the call graph cannot tell (it may be this one, with any value). Everything
is lazy: a scan that asks nothing resolves no site."""
from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple

from tenantlint.callgraph import CallFact, FunctionFact, Symbols, rooted
from tenantlint.id_origin import project_helper

TRUSTED, UNTRUSTED = "t", "u"

_MAX_DEPTH = 12
_NAMED = ("p:", "n:", "r:")  # words that name a local of the caller (discover/call_sites.py)


class CallSite(NamedTuple):
    """What one call passes (recorded by tenantlint/discover/call_sites.py)."""

    line: int
    target: CallFact
    args: tuple[str, ...]  # one word per positional argument (see discover/call_sites.py)
    keywords: tuple[tuple[str, str], ...]  # (keyword, word)
    star: int = -1  # the position of the first `*args`, -1: none
    kwargs: bool = False  # a `**kwargs` may fill any parameter


def called_name(target: CallFact) -> str:
    """The last name of what a call site calls (`read` of `self.repo.read(...)`)."""
    return (target.target if target.kind == "function" else target.attr).rsplit(".", 1)[-1]


class CallerTrust:
    # Slots, and a `repr` that names no state: the results cache fingerprints the catalog
    # (tenantlint.cache.stable_digest), and the call sites of the whole project must not
    # be part of every file's key. A cached result instead carries the answers it used,
    # and is reused only while they still hold (`holds`, tenantlint.engine).
    __slots__ = ("_catalog", "_relations", "_by_short", "_unresolved", "_packed", "_symbols", "_modules",
                 "_functions", "_verifiers", "_entries", "_grouped", "_unpacked", "_sites_of", "_targets", "_checks",
                 "_checked", "_known", "_asking")

    def __init__(self, packed: Iterable, symbols: Symbols, modules: Iterable,
                 verifiers: Mapping[str, tuple], entries: Mapping[str, str], catalog=None) -> None:
        """`packed`: the PackedCallSites facts; `modules`: the ModuleFunctions (read on
        first use); `catalog`: the tenant catalog, for the models' relation names."""
        self._catalog = catalog
        self._relations: frozenset[str] | None = None
        self._by_short: dict[str, list[str]] = {}  # a function's last name -> its qualified names
        self._unresolved: set[str] = set()  # method names of calls through an unknown receiver
        self._packed = list(packed)
        self._symbols = symbols
        self._modules = modules
        self._functions: dict[str, FunctionFact] = {}
        self._verifiers = verifiers
        self._entries = entries
        # A function's last name -> the call sites that call a function of that name (what
        # they call is resolved only for the names a question is asked about: a warm run
        # asks about a few, and resolving every call of the project cost more than the run).
        self._grouped: dict[str, list[tuple[str, CallSite]]] = {}
        self._unpacked: dict[str, dict] = {}  # path -> its call sites, unpacked once
        self._sites_of: dict[str, dict[str, list[tuple[str, CallSite]]]] = {}  # name -> function -> sites
        self._targets: dict[CallFact, str | None] = {}
        # caller -> (site, (position, parameter) verified) of its calls to verifiers
        self._checks: dict[str, list[tuple[CallSite, tuple]]] = {}
        self._checked = False
        self._known: dict[tuple[str, str], bool] = {}
        self._asking: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return "CallerTrust()"

    @property
    def symbols(self) -> Symbols:
        """The project call graph's symbols (attribute types too), for calls the per-file
        checks resolve through `self.<attribute>` (tenantlint/orm/calls.py)."""
        return self._symbols

    def holds(self, answers) -> bool:
        """Are these (function, parameter, trusted) answers still this project's?"""
        return all(self.trusted(function, param) == trusted for function, param, trusted in answers)

    def trusted(self, function: str, param: str) -> bool:
        key = (function, param)
        known = self._known.get(key)
        if known is not None:
            return known
        if key in self._asking or len(self._asking) > _MAX_DEPTH:
            return False  # a cycle (or a chain too long to follow): not shown trusted
        self._asking.add(key)
        try:
            found = self._solve(function, param)
        finally:
            self._asking.discard(key)
        self._known[key] = found  # inside a cycle an untrusted answer may be the cycle's: still safe
        return found

    def _solve(self, function: str, param: str) -> bool:
        sites = self._sites(function.rsplit(".", 1)[-1]).get(function)
        fact = self._functions.get(function)
        if fact is None or self._entries.get(function) == "request" or \
                fact.owner and function.rsplit(".", 1)[-1] in self._unresolved:
            return False
        if not sites:
            return False
        position = fact.params.index(param) if param in fact.params else -1
        for caller, site in sites:
            word = _word(site, position, param)
            if word == TRUSTED or word.startswith("a:") and word[2:] in self._relation_names():
                continue
            if word.startswith(_NAMED):
                name = word[2:]
                if self._verified(caller, site, name) or word[0] == "p" and (
                        _is_test(caller) or self.trusted(caller, name)):
                    continue
            return False
        return True

    def _verified(self, caller: str, site: CallSite, name: str) -> bool:
        """Did the caller hand `name` to a verifier of the project before this call?"""
        if not self._checked:
            self._checked = True
            for short in {name.rsplit(".", 1)[-1] for name in self._verifiers}:
                for target, pairs in self._sites(short).items():
                    verified = project_helper(self._verifiers, target)[0]
                    for who, site in pairs if verified else ():
                        self._checks.setdefault(who, []).append((site, verified))
        for other, verified in self._checks.get(caller, ()):
            if other.line < site.line and any((word := _word(other, position, param))[2:] == name and
                                              word.startswith(_NAMED) for position, param in verified):
                return True
        return False

    def _relation_names(self) -> frozenset[str]:
        """The foreign keys (with and without `_id`) and relations of every model."""
        if self._relations is None:
            names: set[str] = set()
            catalog = self._catalog
            infos = [*catalog.models.values(), *catalog.other_models.values()] if catalog is not None else []
            for info in infos:
                for key in info.extra.get("foreign_keys", ()):
                    column = key[0].lower()
                    names.update((column, column[:-3]) if column.endswith("_id") else (column,))
            for orm in (catalog.orm.values() if catalog is not None else ()):
                names.update(getattr(orm, "relationships", {}))
            self._relations = frozenset(names)
        return self._relations

    def _resolve(self, fact: CallFact) -> str | None:
        resolved = self._symbols.resolve(fact)
        if resolved is not None:
            return resolved[0]
        if fact.kind == "function" or fact.kind == "member" and not fact.instance:
            name = fact.target if fact.kind == "function" else f"{fact.target}.{fact.attr}"
            return rooted(name, self._by_short.get(name.rsplit(".", 1)[-1], ()))
        return None

    def _group(self, short: str) -> list[tuple[str, CallSite]]:
        """(caller, site) of the recorded calls to a function named `short`: only the
        files that call such a name are unpacked (a warm run asks about a few names)."""
        found = self._grouped.get(short)
        if found is None:
            found = self._grouped[short] = []
            for packed in self._packed:
                if short not in packed.names:
                    continue
                sites_by_caller = self._unpacked.get(packed.path)
                if sites_by_caller is None:
                    sites_by_caller = self._unpacked[packed.path] = packed.unpack()
                found.extend((caller, site) for caller, sites in sites_by_caller.items() for site in sites
                             if called_name(site.target) == short)
        if self._modules:
            for name in self._symbols.defined:
                self._by_short.setdefault(name.rsplit(".", 1)[-1], []).append(name)
            self._functions = {f.name: f for mod in self._modules for f in mod.functions}
            self._modules = ()
        return found

    def _sites(self, short: str) -> dict[str, list[tuple[str, CallSite]]]:
        """Function -> (caller, site) of the calls to functions named `short`; a call
        through a receiver the call graph cannot tell marks the name (`_unresolved`)."""
        found = self._sites_of.get(short)
        if found is None:
            found = self._sites_of[short] = {}
            targets = self._targets
            for caller, site in self._group(short):
                target = targets.get(site.target, False)
                if target is False:
                    target = targets[site.target] = self._resolve(site.target)
                if target is not None:
                    found.setdefault(target, []).append((caller, site))
                elif site.target.kind != "function":
                    self._unresolved.add(site.target.attr)
        return found

def _is_test(function: str) -> bool:
    """A pytest test (its parameters are fixtures the test suite builds)."""
    return function.rsplit(".", 1)[-1].startswith("test")


def _word(site: CallSite, position: int, param: str) -> str:
    """The word of the argument that fills `param` (at `position`, -1: keyword only) at a
    site: TRUSTED when omitted (the default), "u" when a `*args`/`**kwargs` may fill it."""
    if 0 <= position < len(site.args):
        if 0 <= site.star <= position:
            return "u"
        return site.args[position]
    for keyword, word in site.keywords:
        if keyword == param:
            return word
    if site.kwargs or site.star >= 0:
        return "u"
    return TRUSTED
