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
    reads_scoped: bool = False  # every read is (a loader criteria for SELECTs only: bulk writes are not)
    relationships: Mapping[str, str] = field(default_factory=dict)  # SQLAlchemy relationship -> class
    core: bool = False  # a Core Table object, not a class
    scoping_methods: frozenset[str] = frozenset()  # custom manager/queryset methods that filter by tenant
    # (class, attribute) pairs whose `self.<attribute>` can hold this model in a method of
    # the class: `model = Board` in it, an ancestor or a subclass (see class_bindings).
    bound_by: frozenset[tuple[str, str]] = frozenset()


def _library(qualified: str, known) -> bool:
    top, last = qualified.split(".")[0], qualified.rsplit(".", 1)[-1]
    return (top, last) in known


def build_index(facts: Iterable, tenant_models: Iterable[str], *, trust_libraries: bool = True) -> dict[str, OrmModel]:
    """`trust_libraries=False` (`trust-scoped-managers = false`): a django-scopes or
    django-multitenant manager or model base scopes nothing, so every query needs its own
    tenant filter (defense in depth); a project manager whose own `get_queryset` filters
    by tenant still scopes, as that filter is explicit in the project."""
    facts = list(facts)
    libraries = SCOPING_MANAGERS if trust_libraries else set()
    by_name: dict[str, list] = {}
    for fact in facts:
        by_name.setdefault(fact.name, []).append(fact)
    loader_scoped = {n for f in facts for n in f.extra.get("loader_criteria", ())}
    select_scoped = {n for f in facts for n in f.extra.get("loader_criteria_selects", ())}
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
        if _library(qualified, libraries):
            return True
        short = qualified.rsplit(".", 1)[-1]
        if short not in scoping_cache:
            scoping_cache[short] = False
            chain = [f for f in ancestors(short, {short}) if f.extra.get("manager")]
            scoping_cache[short] = any(
                f.extra.get("scoping") or any(_library(q, libraries) for q in f.extra.get("base_qualnames", ()))
                for f in chain)
        return scoping_cache[short]

    bound = class_bindings(facts, frozenset(tenant_models))
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
        multitenant = trust_libraries and any(_library(q, SCOPING_MODEL_BASES) for q in bases)
        if multitenant and "objects" not in managers:
            managers["objects"] = True
            order.insert(0, "objects")
        index[name] = OrmModel(
            name=name, framework=chain[0].framework, managers=managers,
            default_manager=default or (order[0] if order else None),
            always_scoped=bool(names & loader_scoped), relationships=relationships,
            reads_scoped=bool(names & (loader_scoped | select_scoped)),
            core=bool(chain[0].extra.get("core")), scoping_methods=scoping_methods,
            bound_by=frozenset(bound.get(name, ())))
    return index


def class_bindings(facts: Iterable, tenant_models: frozenset[str]) -> dict[str, set[tuple[str, str]]]:
    """Tenant model -> the (class, attribute) pairs that can hold it, from the class shapes
    of tenantlint.orm.discover_bindings, matched by class name across files. A method of
    class K reading `self.model` sees what K binds, else what K inherits, or what any
    subclass of K binds (unless an intermediate class binds `model` itself)."""
    shapes = [s for f in facts for s in f.extra.get("classes", ())]
    if not shapes:
        return {}
    by_name: dict[str, list] = {}
    for shape in shapes:
        by_name.setdefault(shape.name, []).append(shape)
    parents = {n: {b for s in ss for b in s.bases if b != n} for n, ss in by_name.items()}
    children: dict[str, set[str]] = {}
    for name, bases in parents.items():
        for base in bases:
            children.setdefault(base, set()).add(name)

    def lineage(name: str, links: dict[str, set[str]]) -> list[str]:
        out, seen, todo = [], {name}, [name]
        while todo:
            for nxt in sorted(links.get(todo.pop(0), ())):
                if nxt not in seen:
                    seen.add(nxt)
                    out.append(nxt)
                    todo.append(nxt)
        return out

    def nearest(name: str, field: str) -> dict:
        """A per-class table (`typed`, `params`) of the class or its nearest ancestor."""
        out: dict = {}
        for cls in [name, *lineage(name, parents)]:
            for shape in by_name.get(cls, ()):
                for row in getattr(shape, field):
                    out.setdefault(row[0], row[1:])
        return out

    def type_params(name: str) -> tuple[str, ...]:
        return next((s.type_params for s in by_name.get(name, ()) if s.type_params), ())

    own: dict[tuple[str, str], set[str]] = {}
    for shape in shapes:
        for attr, names in shape.binds:
            own.setdefault((shape.name, attr), set()).update(names)
        for base, args in shape.args:  # class BoardRepo(Repository[Board])
            order = type_params(base)
            for attr, (var,) in nearest(base, "typed").items():
                picked = [args[order.index(var)]] if var in order and order.index(var) < len(args) else list(args)
                own.setdefault((shape.name, attr), set()).update(a for a in picked if a)
        if shape.super_args or shape.super_kwargs:  # super().__init__(Board)
            keywords = dict(shape.super_kwargs)
            for base in shape.bases:
                for attr, (position, param) in nearest(base, "params").items():
                    value = keywords.get(param) or (
                        shape.super_args[position] if 0 <= position < len(shape.super_args) else None)
                    if value:
                        own.setdefault((shape.name, attr), set()).add(value)

    result: dict[str, set[tuple[str, str]]] = {}
    for (cls, attr), names in own.items():
        models = names & tenant_models
        if not models:
            continue
        reach = [cls, *lineage(cls, parents)]
        todo = [cls]
        while todo:  # subclasses inherit the binding unless they bind the attribute themselves
            for child in sorted(children.get(todo.pop(), ())):
                if (child, attr) not in own and child not in reach:
                    reach.append(child)
                    todo.append(child)
        for model in models:
            result.setdefault(model, set()).update((c, attr) for c in reach)
    return result


_LAST: list = [None, {}]  # (the index last inverted, its inversion): one scan, one catalog


def bound_attributes(index: Mapping[str, OrmModel]) -> dict[str, dict[str, frozenset[str]]]:
    """Class -> attribute -> the tenant models `self.<attribute>` can hold in its methods."""
    if _LAST[0] is index:
        return _LAST[1]
    out: dict[str, dict[str, set[str]]] = {}
    for name, orm in index.items():
        for cls, attr in orm.bound_by:
            out.setdefault(cls, {}).setdefault(attr, set()).add(name)
    frozen = {cls: {attr: frozenset(models) for attr, models in attrs.items()} for cls, attrs in out.items()}
    _LAST[:] = [index, frozen]
    return frozen
