"""Foreign keys and the tenancy they carry. A table with no tenant column of its own is
tenant data all the same when each of its rows belongs to one tenant through a non-null
foreign key to a tenant table, directly or through a chain of such keys (up to three
hops: `messages.conversation_id -> conversations.app_id -> apps.tenant_id`). A nullable
key ties nothing: a row may belong to no parent at all.

Facts come from every place a schema is declared: SQLAlchemy columns (`foreign_key`),
Django fields (`django_key`), peewee fields (`peewee_key`), `ForeignKeyConstraint`s
(`constraint_keys`), and, replayed in migration order by the catalog, Django migrations,
Alembic operations and DDL `REFERENCES`. A model's keys include those of its bases and
mixins, across files (`KeyGraph`); the chains are computed once when the catalog is
assembled (`parent_chains`)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from tenantlint.orm.pyast import const_str, dotted, is_true, kwarg

MAX_HOPS = 3
# A key to `settings.AUTH_USER_MODEL`: the project's user model (a subclass of Django's
# AbstractUser / AbstractBaseUser) when it has one, else Django's `auth_user`.
USER_MODEL = "settings.AUTH_USER_MODEL"
_USER_BASES = ("AbstractUser", "AbstractBaseUser")


def foreign_key(call: ast.Call, annotation: ast.AST | None) -> tuple[str, bool] | None:
    """(referenced table, nullable) of `Column(..., ForeignKey("apps.id"), nullable=False)`
    or `mapped_column(ForeignKey("apps.id"))`; None when the column references nothing.
    Nullability: an explicit `nullable=`, else a primary key is not null, else
    `mapped_column` follows its `Mapped[...]` annotation (`Optional`/`| None` is nullable)
    and `Column` is nullable (SQLAlchemy's defaults)."""
    target = None
    for arg in call.args:
        if isinstance(arg, ast.Call) and (dotted(arg.func) or "").rsplit(".", 1)[-1] == "ForeignKey" and arg.args:
            ref = const_str(arg.args[0])
            if ref is None and isinstance(arg.args[0], ast.Attribute):
                ref = dotted(arg.args[0])  # ForeignKey(App.id): the class, resolved later
            if ref and "." in ref:
                target = ref.rsplit(".", 1)[0]
    if target is None:
        return None
    explicit = kwarg(call, "nullable")
    if explicit is not None:
        return target, not (isinstance(explicit, ast.Constant) and explicit.value is False)
    if is_true(kwarg(call, "primary_key")):
        return target, False
    if (dotted(call.func) or "").rsplit(".", 1)[-1] == "mapped_column" and annotation is not None:
        text = ast.unparse(annotation)
        return target, "Optional" in text or "None" in text
    return target, True


def parent_chains(keys: Mapping[str, Iterable[tuple[str, str, bool]]], tenant_tables: Iterable[str],
                  global_tables: Iterable[str]) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """table -> its shortest chain of non-null keys to a tenant table, as hops
    (table, key column, referenced table): `messages` -> ((messages, conversation_id,
    conversations), (conversations, app_id, apps)). `keys`: table -> (column, referenced
    table, nullable). Tenant and global tables get no chain."""
    direct = set(tenant_tables)
    exempt = set(global_tables)
    chains: dict[str, tuple[tuple[str, str, str], ...]] = {}
    reached = {t: () for t in direct}
    for _ in range(MAX_HOPS):
        found = {}
        for table, columns in keys.items():
            if table in reached or table in exempt:
                continue
            for column, parent, nullable in sorted(columns):
                if not nullable and parent in reached and parent != table:
                    found[table] = ((table, column, parent), *reached[parent])
                    break
        if not found:
            break
        reached.update(found)
        chains.update(found)
    return chains


def django_key(call: ast.Call, own: str) -> tuple[str, bool] | None:
    """(target, nullable) of a Django `ForeignKey` / `OneToOneField`: the target as written
    (a class name, `"app.Model"`, `"self"` as the class itself, or USER_MODEL); nullable
    only with `null=True` (Django's default is NOT NULL)."""
    ref = model_ref(call.args[0] if call.args else kwarg(call, "to"), own)
    return (ref, is_true(kwarg(call, "null"))) if ref else None


def peewee_key(call: ast.Call, own: str) -> tuple[str, bool] | None:
    """(target class, nullable) of a peewee `ForeignKeyField(Model, null=...)` or
    `DeferredForeignKey("Model")`; peewee's default is NOT NULL."""
    ref = model_ref(call.args[0] if call.args else kwarg(call, "model") or kwarg(call, "rel_model_name"), own)
    return (ref, is_true(kwarg(call, "null"))) if ref else None


def model_ref(node: ast.AST | None, own: str) -> str | None:
    text = const_str(node)
    if text is None:
        name = dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if not name:
            return None
        return USER_MODEL if name.endswith("AUTH_USER_MODEL") else name.rsplit(".", 1)[-1]
    return own if text == "self" else text or None


def constraint_keys(call: ast.Call) -> list[tuple[str, str]]:
    """(column, referenced table) pairs of `ForeignKeyConstraint(["app_id"], ["apps.id"])`."""
    if (dotted(call.func) or "").rsplit(".", 1)[-1] != "ForeignKeyConstraint" or len(call.args) < 2:
        return []
    local, remote = call.args[0], call.args[1]
    if not (isinstance(local, (ast.List, ast.Tuple)) and isinstance(remote, (ast.List, ast.Tuple))):
        return []
    out = []
    for col, ref in zip(local.elts, remote.elts):
        column, target = const_str(col), const_str(ref)
        if column and target and "." in target:
            out.append((column.lower(), target.rsplit(".", 1)[0].lower().rsplit(".", 1)[-1]))
    return out


def migration_target(ref: str, app: str | None) -> str:
    """The default table a Django migration's `to=` names: `"app.Model"` -> `app_model`,
    `"Model"` -> `<this app>_model`; USER_MODEL stays, resolved by the catalog."""
    if ref == USER_MODEL:
        return ref
    label, _, model = ref.rpartition(".")
    label = label or app
    return f"{label}_{model}".lower() if label else model.lower()


@dataclass
class KeyGraph:
    """Foreign keys by table, as the models declare them (own and inherited) and as the
    replayed migrations and DDL leave them; a model's key wins over a migration's."""

    model_of: dict[str, str] = field(default_factory=dict)  # table -> model class
    keys: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)  # table -> column -> (parent, nullable)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # model -> relation field -> column
    classes: dict[str, list] = field(default_factory=dict)  # class name -> [(ModelFact, table)]

    @classmethod
    def build(cls, resolved, shape_keys: Mapping[str, Mapping[str, tuple[str, bool]]], norm) -> "KeyGraph":
        """`resolved`: (ModelFact, columns, relations) with bases resolved; `shape_keys`:
        the replayed schema's table -> column -> (parent table, nullable)."""
        graph = cls()
        by_name: dict[str, list] = {}
        mapped = []
        for fact, _, relations in resolved:
            by_name.setdefault(fact.name, []).append(fact)
            table = fact.table or fact.default_table
            if fact.abstract or not table:
                continue
            mapped.append((fact, norm(table), relations))
            graph.model_of.setdefault(norm(table), fact.name)
            graph.classes.setdefault(fact.name, []).append((fact, norm(table)))
        users = [t for f, t, _ in mapped if f.framework == "django" and
                 any(b.rsplit(".", 1)[-1] in _USER_BASES for b in _lineage(f, by_name))]
        user_table = users[0] if users else "auth_user"
        for fact, table, relations in mapped:
            own = graph.keys.setdefault(table, {})
            for column, target, nullable in _inherited(fact, by_name):
                parent = user_table if target == USER_MODEL else graph.resolve(target, fact, norm)
                if parent:
                    own.setdefault(column.lower(), (parent, nullable))
            if fact.framework in ("django", "peewee"):
                graph.fields[fact.name] = {f: c.lower() for f, c in relations.items() if c.lower() in own}
        for table, columns in shape_keys.items():
            own = graph.keys.setdefault(table, {})
            for column, (target, nullable) in columns.items():
                own.setdefault(column, (user_table if target == USER_MODEL else target, nullable))
        return graph

    def resolve(self, target: str, fact, norm) -> str | None:
        """The table a model's key references: a class of the same module, else the only
        class of that name, else one of the same folder (Django test trees reuse names);
        `"app.Model"` by its default table; anything else is a table name. None when a
        class name stays ambiguous."""
        label, _, name = target.rpartition(".")
        found = self.classes.get(name, [])
        if label and name[:1].isupper():  # Django's "app.Model"
            default = migration_target(target, None)
            return next((t for f, t in found if (f.default_table or "").lower() == default), default)
        if label or not found:
            return norm(target)  # a table ("apps", "public.apps")
        if len(found) == 1:
            return found[0][1]
        for same in (lambda f: f.qualname.rsplit(".", 1)[0] == fact.qualname.rsplit(".", 1)[0],
                     lambda f: f.path.rsplit("/", 1)[0] == fact.path.rsplit("/", 1)[0]):
            near = [t for f, t in found if same(f)]
            if len(near) == 1:
                return near[0]
        return None

    def lists(self) -> dict[str, list[tuple[str, str, bool]]]:
        """table -> (column, parent table, nullable), as `parent_chains` takes them."""
        return {t: [(c, p, n) for c, (p, n) in cols.items()] for t, cols in self.keys.items()}


def _lineage(fact, by_name, seen=None) -> list[str]:
    """The bases of a model, transitively, by name (across files)."""
    seen = seen if seen is not None else {fact.name}
    out = []
    for base in fact.bases:
        short = base.rsplit(".", 1)[-1]
        out.append(base)
        if short in seen:
            continue
        seen.add(short)
        for parent in by_name.get(short, ()):
            out += _lineage(parent, by_name, seen)
    return out


def _inherited(fact, by_name, seen=None):
    """A model's keys, its own first, then those of its bases and mixins."""
    seen = seen if seen is not None else {fact.name}
    yield from fact.extra.get("foreign_keys", ())
    for base in fact.bases:
        short = base.rsplit(".", 1)[-1]
        if short in seen:
            continue
        seen.add(short)
        for parent in by_name.get(short, ()):
            yield from _inherited(parent, by_name, seen)
