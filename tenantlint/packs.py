"""The API catalog: which calls execute SQL, open raw connections, take cache or object
keys, or search and write vector stores. Knowledge lives in TOML packs (`rules/*.toml` in
a checkout, `tenantlint/_packs` in the wheel) and in the config tables `sinks`,
`connections`, `caches`, `vector-stores` and `object-stores`; this module only reads,
validates and indexes them. The pack format is documented in `rules/README.md`.

A bad pack is a PackError (our bug); a bad config entry is a ConfigError naming the key
(exit 2)."""
from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from tenantlint.config import ConfigError, Settings
from tenantlint.words import remembered

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROLES = ("sql", "connect", "cache", "object", "vector-query", "vector-write",
         "document-query", "document-write", "graph", "wipe", "memoize")
_CALL_FIELDS = {"on", "methods", "functions", "role", "sql", "key", "keys", "mapping", "pattern", "bucket",
                "pattern-default", "prefix", "varargs", "namespace", "filter", "tags", "exempt", "doc",
                "collection", "pipeline", "query", "dialect", "cypher"}
_KIND_FIELDS = {"from", "objects", "methods", "attributes", "item", "chain", "hints", "doc", "callbacks"}
_PRODUCTION_FIELDS = {"call", "returns", "arg", "equals", "scope", "name"}
DIALECTS = ("mongo", "elasticsearch")
# config table -> the role its entries have
CONFIG_TABLES = {"sinks": "sql", "connections": "connect", "caches": "cache",
                 "object-stores": "object", "vector-stores": "vector-query"}


class PackError(Exception):
    """A malformed catalog pack (a bug in tenantlint's packs or a contributor's)."""


@dataclass(frozen=True)
class ArgRef:
    """Where an argument is: `"0|name"` = position 0 or keyword `name`; `"1|Params.Key"`
    descends into the dict literal passed as `Params`; `"*"` = every positional argument."""

    position: int | None = None
    keyword: str | None = None
    path: tuple[str, ...] = ()
    every: bool = False

    @classmethod
    def parse(cls, text: Any, where: str) -> "ArgRef":
        if isinstance(text, bool) or not isinstance(text, (str, int)):
            raise ValueError(f"{where}: an argument reference must be a string like \"0|name\" or a position")
        if isinstance(text, int):
            return cls(position=_position(text, where))
        if text == "*":
            return cls(every=True)
        position = keyword = None
        path: tuple[str, ...] = ()
        for part in text.split("|"):
            part = part.strip()
            if part.isdigit():
                position = _position(int(part), where)
            elif re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_$][\w$]*)*", part):
                keyword, *rest = part.split(".")
                path = tuple(rest)
            else:
                raise ValueError(f"{where}: bad argument reference `{text}`")
        return cls(position, keyword, path)


# No real signature takes this many positional arguments; a position past it (or below 0)
# would match no call at all, switching the check off without a word.
MAX_POSITION = 255


def _position(value: int, where: str) -> int:
    if not 0 <= value <= MAX_POSITION:
        raise ValueError(f"{where}: argument position {value} is out of range (0 to {MAX_POSITION})")
    return value


@dataclass(frozen=True)
class Production:
    """A call (constructor or method) that yields a handle of `returns`, optionally only
    when argument `arg` equals `equals` (boto3.client("s3")), and scoped when argument
    `scope` has a tenant component (Weaviate `with_tenant(tenant_id)`)."""

    returns: str
    arg: ArgRef | None = None
    equals: str | None = None
    scope: tuple[ArgRef, ...] = ()
    name: ArgRef | None = None  # the argument naming the collection or index it opens (`get_collection("notes")`)


@dataclass
class Kind:
    name: str
    pack: str
    methods: dict[str, list[Production]] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    item: str | None = None
    chain: bool = False
    hints: tuple[str, ...] = ()
    # method -> kind of the first parameter of the function passed as its first argument
    # (neo4j `session.execute_read(work)`: `def work(tx)` gets a transaction)
    callbacks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallSpec:
    role: str
    pack: str
    label: str  # the library, for messages
    sql: ArgRef | None = None
    key: ArgRef | None = None
    keys: ArgRef | None = None
    mapping: ArgRef | None = None
    pattern: ArgRef | None = None
    pattern_default: str | None = None
    prefix: tuple[ArgRef, ...] = ()
    varargs: bool = False
    namespace: tuple[ArgRef, ...] = ()
    filter: tuple[ArgRef, ...] = ()
    tags: tuple[ArgRef, ...] = ()
    exempt_arg: ArgRef | None = None
    exempt_values: tuple[str, ...] = ()
    collection: ArgRef | None = None  # the argument naming the collection/index (else: the handle's name)
    pipeline: ArgRef | None = None  # an aggregation pipeline (its first stage filters)
    query: tuple[ArgRef, ...] = ()  # search query bodies (Elasticsearch DSL)
    dialect: str = "mongo"  # how `filter` documents are read: mongo | elasticsearch
    cypher: ArgRef | None = None  # the Cypher text of a graph call
    bucket: ArgRef | None = None  # the bucket or container an object call names (tenantlint/stores/owned.py)


@dataclass
class ApiCatalog:
    kinds: dict[str, Kind] = field(default_factory=dict)
    constructors: dict[str, list[Production]] = field(default_factory=dict)  # exact qualified name
    constructor_globs: list[tuple[str, Production]] = field(default_factory=list)
    objects: dict[str, str] = field(default_factory=dict)  # qualified object -> kind
    methods: dict[tuple[str, str], list[CallSpec]] = field(default_factory=dict)  # (kind, method)
    functions: dict[str, list[CallSpec]] = field(default_factory=dict)  # exact qualified name
    function_globs: list[tuple[str, CallSpec]] = field(default_factory=list)
    configured: dict[str, list[CallSpec]] = field(default_factory=dict)  # suffix-matched names
    distinctive: dict[str, dict[str, list[CallSpec]]] = field(default_factory=dict)  # pack -> method -> specs
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pack -> module names
    hints: list[tuple[str, str]] = field(default_factory=list)  # (word, kind)
    pack_roles: dict[str, set[str]] = field(default_factory=dict)  # pack -> roles of its calls
    _screen: re.Pattern | None = None
    # (lookup, qualified name) -> its answer: the glob and suffix matches of a name are
    # asked for at every call and constructor of every file (built catalogs don't change).
    _answers: dict = field(default_factory=dict, repr=False, compare=False)

    # -- lookups -------------------------------------------------------------------
    def imported_packs(self, source: str) -> frozenset[str]:
        """The packs whose libraries this source imports (a cheap text screen)."""
        return _packs_imported(self, source)

    def _imported_packs(self, source: str) -> frozenset[str]:
        if self._screen is None:
            modules = sorted({m for mods in self.imports.values() for m in mods}, key=len, reverse=True)
            alternatives = "|".join(re.escape(m) for m in modules) or "(?!)"
            self._screen = re.compile(rf"^[ \t]*(?:from|import)[ \t]+({alternatives})\b", re.M)
        found = {m.group(1) for m in self._screen.finditer(source)}
        return frozenset(pack for pack, mods in self.imports.items()
                         if any(f == m or f.startswith(m + ".") or m.startswith(f + ".") for f in found for m in mods))

    def worth_visiting(self, source: str, packs: frozenset[str], roles) -> bool:
        """Whether a file can hold a call of these roles: it imports a pack that has such
        calls, the config adds such wrappers, or it names a hinted receiver (`engine.`)."""
        roles = set(roles)
        if any(self.pack_roles.get(pack, set()) & roles for pack in packs):
            return True
        if any(spec.role in roles for specs in self.configured.values() for spec in specs):
            return True
        return any(self.pack_roles.get(self.kinds[kind].pack, set()) & roles and _hint(word).search(source)
                   for word, kind in self.hints)

    def constructor(self, qualified: str) -> list[Production]:
        key = ("constructor", qualified)
        if key not in self._answers:
            self._answers[key] = tuple(self._constructor(qualified))
        return list(self._answers[key])

    def _constructor(self, qualified: str) -> list[Production]:
        found = list(self.constructors.get(qualified, ()))
        found += [p for pattern, p in self.constructor_globs if fnmatch.fnmatchcase(qualified, pattern)]
        if not found:
            for name in self.configured:
                owner = name.rsplit(".", 1)[0]
                if "." in name and owner.rsplit(".", 1)[-1][:1].isupper() and _name_matches(qualified, owner):
                    found.append(Production(returns=f"config:{owner}"))
                    break
        return found

    def method_names(self) -> frozenset[str]:
        """Every method a call through a receiver can match (calls_on, distinctive_calls)."""
        key = ("method names",)
        if key not in self._answers:
            self._answers[key] = frozenset(method for _kind, method in self.methods) | frozenset(
                name.rsplit(".", 1)[-1] for name in self.configured) | frozenset(
                method for by_method in self.distinctive.values() for method in by_method)
        return self._answers[key]

    def calls_on(self, kind: str, method: str) -> list[CallSpec]:
        if kind.startswith("config:"):
            return self.configured.get(f"{kind[7:]}.{method}", [])
        return self.methods.get((kind, method), [])

    def function_calls(self, qualified: str) -> list[CallSpec]:
        key = ("function", qualified)
        if key not in self._answers:
            self._answers[key] = tuple(self._function_calls(qualified))
        return list(self._answers[key])

    def _function_calls(self, qualified: str) -> list[CallSpec]:
        found = list(self.functions.get(qualified, ()))
        found += [s for pattern, s in self.function_globs if fnmatch.fnmatchcase(qualified, pattern)]
        for name, specs in self.configured.items():
            if _name_matches(qualified, name):
                found += specs
        return found

    def distinctive_calls(self, method: str, packs: frozenset[str]) -> list[CallSpec]:
        out: list[CallSpec] = []
        for pack in packs:
            out += self.distinctive.get(pack, {}).get(method, [])
        return out

    def hinted_kind(self, name: str) -> str | None:
        lowered = name.lower()
        for word, kind in self.hints:
            if word in lowered:
                return kind
        return None

    def sql_sinks(self) -> list[tuple[str, CallSpec]]:
        """Every SQL-executing call: (`kind.method` or qualified function, spec), for the SQL rules."""
        out = [(f"{k}.{m}", s) for (k, m), specs in self.methods.items() for s in specs if s.role == "sql"]
        out += [(q, s) for q, specs in self.functions.items() for s in specs if s.role == "sql"]
        out += [(q, s) for q, specs in self.configured.items() for s in specs if s.role == "sql"]
        return out


def _name_matches(qualified: str, wanted: str) -> bool:
    return qualified == wanted or qualified.endswith("." + wanted)


# -- loading ----------------------------------------------------------------------------
def packs_dir() -> Path:
    installed = Path(__file__).resolve().parent / "_packs"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "rules"


def load_pack_files(folder: Path | None = None) -> list[tuple[str, dict]]:
    folder = folder or packs_dir()
    out = []
    for path in sorted(folder.glob("*.toml")):
        try:
            out.append((path.stem, tomllib.loads(path.read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PackError(f"catalog pack {path.name}: {exc}") from None
        except RecursionError:
            raise PackError(f"catalog pack {path.name}: nested too deeply to read") from None
    return out


@lru_cache(maxsize=8)
def _builtin() -> tuple[tuple[str, dict], ...]:
    return tuple(load_pack_files())


def api_catalog_for(settings: Settings) -> ApiCatalog:
    """The merged catalog for these settings (cached on the config tables)."""
    key = _config_key(settings)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = build_api_catalog(_builtin(), settings)
    return cached


_CACHE: dict[str, ApiCatalog] = {}


def _config_key(settings: Settings) -> str:
    import json

    return json.dumps([settings.sinks, settings.connections, settings.caches, settings.vector_stores,
                       settings.object_stores], sort_keys=True, default=str)


def validate_settings(settings: Settings, where: str = "config") -> None:
    """Raise ConfigError for a malformed `sinks`/`connections`/... entry (called on load)."""
    build_api_catalog((), settings, where=where)


def build_api_catalog(packs, settings: Settings | None = None, where: str = "config") -> ApiCatalog:
    catalog = ApiCatalog()
    for name, data in packs:
        try:
            _add_pack(catalog, name, data)
        except ValueError as exc:
            raise PackError(f"catalog pack {name}.toml: {exc}") from None
    for kind in catalog.kinds.values():
        for target in [*kind.attributes.values(), *([kind.item] if kind.item else []), *kind.callbacks.values(),
                       *(p.returns for ps in kind.methods.values() for p in ps)]:
            if target not in catalog.kinds:
                raise PackError(f"catalog pack {kind.pack}.toml: kind `{kind.name}` refers to unknown kind `{target}`")
    if settings is not None:
        for table, role in CONFIG_TABLES.items():
            entries = getattr(settings, table.replace("-", "_"))
            for name, value in entries.items():
                try:
                    spec = _config_entry(name, value, role, table)
                except ValueError as exc:
                    raise ConfigError(f"{where}: `{table}.{name}`: {str(exc).removeprefix('entry: ')}") from None
                catalog.configured.setdefault(name, []).append(spec)
    return catalog


def _add_pack(catalog: ApiCatalog, pack: str, data: Mapping) -> None:
    unknown = set(data) - {"library", "kinds", "calls"}
    if unknown:
        raise ValueError(f"unknown top-level key(s) {sorted(unknown)}")
    library = data.get("library", {})
    _check_fields(library, {"name", "imports", "distinctive", "doc"}, "[library]")
    label = library.get("name", pack)
    catalog.imports[pack] = tuple(_strings(library.get("imports", []), "library.imports"))
    distinctive = set(_strings(library.get("distinctive", []), "library.distinctive"))
    for kind_name, body in data.get("kinds", {}).items():
        where = f"kinds.{kind_name}"
        _check_fields(body, _KIND_FIELDS, where)
        if kind_name in catalog.kinds:
            raise ValueError(f"kind `{kind_name}` is defined twice")
        kind = Kind(kind_name, pack, chain=bool(body.get("chain", False)), item=body.get("item"),
                    hints=tuple(_strings(body.get("hints", []), f"{where}.hints")))
        catalog.kinds[kind_name] = kind
        for entry in body.get("from", []):
            production = _production(entry, kind_name, f"{where}.from")
            call = entry if isinstance(entry, str) else entry["call"]
            if "*" in call:
                catalog.constructor_globs.append((call, production))
            else:
                catalog.constructors.setdefault(call, []).append(production)
        for obj in _strings(body.get("objects", []), f"{where}.objects"):
            catalog.objects[obj] = kind_name
        for method, target in body.get("methods", {}).items():
            entries = target if isinstance(target, list) else [target]
            kind.methods[method] = [_production(t, None, f"{where}.methods.{method}") for t in entries]
        for attr, target in body.get("attributes", {}).items():
            if not isinstance(target, str):
                raise ValueError(f"{where}.attributes.{attr} must name a kind")
            kind.attributes[attr] = target
        for method, target in body.get("callbacks", {}).items():
            if not isinstance(target, str):
                raise ValueError(f"{where}.callbacks.{method} must name a kind")
            kind.callbacks[method] = target
        for word in kind.hints:
            catalog.hints.append((word.lower(), kind_name))
    for index, body in enumerate(data.get("calls", [])):
        where = f"calls[{index}]"
        spec = _call_spec(body, pack, label, where)
        catalog.pack_roles.setdefault(pack, set()).add(spec.role)
        on = _strings(body.get("on", []) if not isinstance(body.get("on"), str) else [body["on"]], f"{where}.on")
        methods = _strings(body.get("methods", []), f"{where}.methods")
        functions = _strings(body.get("functions", []), f"{where}.functions")
        if bool(on) != bool(methods) or not (methods or functions):
            raise ValueError(f"{where}: give `on` + `methods`, or `functions`")
        for kind_name in on:
            if kind_name not in catalog.kinds:
                raise ValueError(f"{where}: unknown kind `{kind_name}`")
            for method in methods:
                catalog.methods.setdefault((kind_name, method), []).append(spec)
                if method in distinctive:
                    catalog.distinctive.setdefault(pack, {}).setdefault(method, []).append(spec)
        for function in functions:
            if "*" in function:
                catalog.function_globs.append((function, spec))
            else:
                catalog.functions.setdefault(function, []).append(spec)


def _production(entry: Any, returns: str | None, where: str) -> Production:
    if isinstance(entry, str):
        if returns is None:
            return Production(returns=entry)
        return Production(returns=returns)
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a string or a table")
    _check_fields(entry, _PRODUCTION_FIELDS, where)
    if returns is None and "returns" not in entry:
        raise ValueError(f"{where}: `returns` is required")
    if returns is not None and "call" not in entry:
        raise ValueError(f"{where}: `call` is required")
    arg = ArgRef.parse(entry["arg"], where) if "arg" in entry else None
    return Production(returns=entry.get("returns", returns), arg=arg, equals=entry.get("equals"),
                      scope=tuple(ArgRef.parse(a, where) for a in _listify(entry.get("scope", []))),
                      name=ArgRef.parse(entry["name"], where) if "name" in entry else None)


def _call_spec(body: Any, pack: str, label: str, where: str) -> CallSpec:
    if not isinstance(body, Mapping):
        raise ValueError(f"{where}: expected a table")
    _check_fields(body, _CALL_FIELDS, where)
    role = body.get("role")
    if role not in ROLES:
        raise ValueError(f"{where}: `role` must be one of {', '.join(ROLES)}")

    def ref(name):
        return ArgRef.parse(body[name], f"{where}.{name}") if name in body else None

    def refs(name):
        return tuple(ArgRef.parse(a, f"{where}.{name}") for a in _listify(body.get(name, [])))

    exempt = body.get("exempt", {})
    _check_fields(exempt, {"arg", "values"}, f"{where}.exempt")
    spec = CallSpec(
        role=role, pack=pack, label=label, sql=ref("sql"), key=ref("key"), keys=ref("keys"),
        mapping=ref("mapping"), pattern=ref("pattern"), pattern_default=body.get("pattern-default"),
        prefix=refs("prefix"), varargs=bool(body.get("varargs", False)), namespace=refs("namespace"),
        filter=refs("filter"), tags=refs("tags"),
        exempt_arg=ArgRef.parse(exempt["arg"], f"{where}.exempt.arg") if "arg" in exempt else None,
        exempt_values=tuple(_strings(exempt.get("values", []), f"{where}.exempt.values")),
        collection=ref("collection"), pipeline=ref("pipeline"), query=refs("query"),
        dialect=body.get("dialect", "mongo"), cypher=ref("cypher"), bucket=ref("bucket"),
    )
    if spec.dialect not in DIALECTS:
        raise ValueError(f"{where}: `dialect` must be one of {', '.join(DIALECTS)}")
    if role == "graph" and spec.cypher is None:
        raise ValueError(f"{where}: a `graph` call needs `cypher` (the argument holding the query)")
    if role == "sql" and spec.sql is None:
        raise ValueError(f"{where}: a `sql` call needs `sql` (the argument holding the SQL)")
    if role in ("cache", "object") and not (spec.key or spec.keys or spec.mapping or spec.pattern or spec.varargs):
        raise ValueError(f"{where}: a `{role}` call needs one of key, keys, mapping, pattern, varargs")
    return spec


def _config_entry(name: str, value: Any, role: str, table: str) -> CallSpec:
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", name):
        raise ValueError("the key must be a dotted name like `app.db.fetch_all`")
    if role == "connect" and value is True:
        return CallSpec(role=role, pack="config", label=name)
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        field_name = {"sql": "sql", "cache": "key", "object": "key"}.get(role)
        if field_name is None:
            raise ValueError("expected a table like { filter = [\"filter\"] }")
        value = {field_name: value}
    if not isinstance(value, Mapping):
        raise ValueError("expected an argument position, a keyword, or a table")
    body = dict(value)
    if table == "vector-stores":
        write = body.pop("write", False)
        if not isinstance(write, bool):
            raise ValueError("`write` must be true or false")
        body["role"] = "vector-write" if write else "vector-query"
    else:
        if "role" in body:
            raise ValueError("unknown field `role`")
        body["role"] = role
    for forbidden in ("on", "methods", "functions"):
        if forbidden in body:
            raise ValueError(f"unknown field `{forbidden}`")
    return _call_spec(body, "config", name, "entry")


def _check_fields(body: Any, allowed: set[str], where: str) -> None:
    if not isinstance(body, Mapping):
        raise ValueError(f"{where}: expected a table")
    unknown = set(body) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(f'`{u}`' for u in sorted(unknown))}")


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return value


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


_packs_imported = remembered(ApiCatalog._imported_packs)


@lru_cache(maxsize=None)
def _hint(word: str) -> re.Pattern:
    """A receiver named with `word` (`self.engine_ro.`): `\\b\\w*word\\w*\\s*\\.`, which for a
    word starting with a word character finds what `word\\w*\\s*\\.` finds (the word run
    it is in reaches back to a boundary) without trying `\\w*` from every boundary (5x faster)."""
    if re.match(r"\w", word):
        return re.compile(rf"{re.escape(word)}\w*\s*\.", re.I)
    return re.compile(rf"\b\w*{re.escape(word)}\w*\s*\.", re.I)
