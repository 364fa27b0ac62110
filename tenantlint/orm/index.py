"""What the query checkers need to know about each tenant model beyond its columns,
resolved across files when the catalog is assembled: which of its managers scope by
tenant (own or inherited), and whether a `do_orm_execute` loader criteria or a
scoping base class (django-multitenant's TenantModel) scopes every query on it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

# Library conventions (qualified-name prefix, class name).
SCOPING_MANAGERS = {("django_scopes", "ScopedManager"), ("django_multitenant", "TenantManager"),
                    ("django_multitenant", "TenantManagerMixin")}
SCOPING_MODEL_BASES = {("django_multitenant", "TenantModel"), ("django_multitenant", "TenantModelMixin")}


@dataclass(frozen=True)
class OrmModel:
    name: str
    framework: str
    managers: Mapping[str, bool] = field(default_factory=dict)  # attribute -> scoping
    default_manager: str | None = None
    always_scoped: bool = False  # every query is scoped outside the checker's view
    relationships: Mapping[str, str] = field(default_factory=dict)  # SQLAlchemy relationship -> class
    core: bool = False  # a Core Table object, not a class
    scoping_methods: frozenset[str] = frozenset()  # custom manager/queryset methods that filter by tenant


def _library(qualified: str, known) -> bool:
    top, last = qualified.split(".")[0], qualified.rsplit(".", 1)[-1]
    return (top, last) in known


def build_index(facts: Iterable, tenant_models: Iterable[str]) -> dict[str, OrmModel]:
    facts = list(facts)
    by_name: dict[str, list] = {}
    for fact in facts:
        by_name.setdefault(fact.name, []).append(fact)
    loader_scoped = {n for f in facts for n in f.extra.get("loader_criteria", ())}
    scoping_methods = frozenset(m for f in facts for m in f.extra.get("scoping_methods", ()))

    def ancestors(name: str, seen: set[str]) -> list:
        out = []
        for fact in by_name.get(name, ()):
            out.append(fact)
            for base in fact.bases:
                short = base.rsplit(".", 1)[-1]
                if short not in seen:
                    seen.add(short)
                    out.extend(ancestors(short, seen))
        return out

    scoping_cache: dict[str, bool] = {}

    def manager_scoping(qualified: str) -> bool:
        if _library(qualified, SCOPING_MANAGERS):
            return True
        short = qualified.rsplit(".", 1)[-1]
        if short not in scoping_cache:
            scoping_cache[short] = False
            chain = [f for f in ancestors(short, {short}) if f.extra.get("manager")]
            scoping_cache[short] = any(
                f.extra.get("scoping") or any(_library(q, SCOPING_MANAGERS) for q in f.extra.get("base_qualnames", ()))
                for f in chain)
        return scoping_cache[short]

    index: dict[str, OrmModel] = {}
    for name in tenant_models:
        chain = ancestors(name, {name})
        if not chain:
            continue
        managers: dict[str, bool] = {}
        order: list[str] = []
        relationships: dict[str, str] = {}
        default = None
        for fact in chain:  # own declarations first: they win
            for attr, cls in fact.extra.get("managers", {}).items():
                if attr not in managers:
                    managers[attr] = manager_scoping(cls)
                    order.append(attr)
            for rel, target in fact.extra.get("relationships", {}).items():
                relationships.setdefault(rel, target)
            default = default or fact.extra.get("default_manager")
        names = {name} | {f.name for f in chain}
        bases = {q for f in chain for q in f.extra.get("base_qualnames", ())}
        multitenant = any(_library(q, SCOPING_MODEL_BASES) for q in bases)
        if multitenant and "objects" not in managers:
            managers["objects"] = True
            order.insert(0, "objects")
        index[name] = OrmModel(
            name=name, framework=chain[0].framework, managers=managers,
            default_manager=default or (order[0] if order else None),
            always_scoped=bool(names & loader_scoped), relationships=relationships,
            core=bool(chain[0].extra.get("core")), scoping_methods=scoping_methods)
    return index
