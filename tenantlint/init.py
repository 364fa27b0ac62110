"""`tenantlint init`: a starter `[tool.tenantlint]` section from what discovery finds.

Without `--tenant-columns` it proposes the tenant column from the schema (`propose`)
and says why. It lists the discovered tenant tables and models (discovery stays on, so
listing them pins them even if their definitions later move out of the tree), lists the
project's real tables with no tenant column and no key to a tenant table commented out
under `global-tables` for a human to review (a table that is shared on purpose should
be declared, not guessed), and adds per-file-ignores for tests and migrations (and,
commented out with a TODO, for background jobs and commands it finds). It appends to pyproject.toml when there is one (never rewriting
what is there), else writes tenantlint.toml; an existing section is only replaced with
`--force`."""
from __future__ import annotations

import fnmatch
import json
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from tenantlint.config import ConfigError, Settings, repository_root
from tenantlint.files import is_test_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Code that legitimately spans tenants: tests build fixtures for several tenants;
# migrations backfill every tenant's rows and open their own connections. Schema rules
# (TL5xx), RLS bypass (TL107) and session-level settings (TL105) stay on everywhere.
TEST_IGNORES = ("TL101", "TL102", "TL103", "TL104", "TL2", "TL301", "TL4")
MIGRATION_IGNORES = ("TL101", "TL103", "TL104", "TL201", "TL202", "TL301")


# The words a tenant key is named after, most tenant-like first (ties go to the first),
# and, when none is found, the owner keys of per-user data.
TENANT_WORDS = ("tenant", "organization", "organisation", "org", "workspace", "team", "account", "company",
                "realm", "project", "space")
OWNER_WORDS = ("user", "owner")
_CANDIDATES = tuple(f"{w}_id" for w in TENANT_WORDS + OWNER_WORDS)

# Code that runs outside a request and often spans tenants on purpose: suggested,
# commented out, only when the project has such files.
BACKGROUND_GLOBS = (
    ("*/management/commands/*", "Django management commands"),
    ("*/tasks.py", "Celery / RQ tasks"),
    ("*/tasks/*", "background tasks"),
    ("*/jobs/*", "background jobs"),
    ("*/workers/*", "workers"),
    ("*/cron/*", "scheduled jobs"),
)
BACKGROUND_IGNORES = ("TL101", "TL201", "TL202")


@dataclass(frozen=True)
class Proposal:
    """A tenant column guessed from the schema, and why."""

    column: str
    tables: int  # how many of the project's tables carry it
    target: str | None = None  # the table its key points at, when the project defines one
    parent_of: str | None = None  # a candidate whose table carries this column (a higher tenant)

    def reason(self, total: int) -> str:
        why = f"`{self.column}` is on {self.tables} of the {total} tables"
        if self.target:
            why += f", a key to `{self.target}`"
        if self.parent_of:
            why += f"; `{self.parent_of}`'s table itself belongs to one"
        return why


@dataclass(frozen=True)
class Discovered:
    tenant_columns: tuple[str, ...]
    tenant_tables: tuple[str, ...]
    tenant_models: tuple[str, ...]
    global_looking: tuple[str, ...]
    proposal: Proposal | None = None  # set when the tenant column was inferred
    runner_up: Proposal | None = None
    inferred: bool = False
    files: int = 0
    table_count: int = 0
    background: tuple[tuple[str, str], ...] = ()  # (glob, what) present in the project
    reached: tuple[tuple[str, str], ...] = ()  # (table, key to a tenant table) not global


def discover(root: Path, tenant_columns: tuple[str, ...] | None = ("tenant_id",)) -> Discovered:
    """What `init` writes. `tenant_columns=None`: propose them from the schema."""
    from tenantlint.catalog import ModelFact, SchemaFact, TableFact, schema_columns
    from tenantlint.discover import assemble_facts, discover_file, python_discoverers
    from tenantlint.files import relative, walk

    given = tuple(c.lower() for c in tenant_columns) if tenant_columns else ()
    # Discovery names a Django migration's foreign key `org` as `org_id` only when that is a
    # tenant column: read the project once with every candidate.
    reading = Settings(root=root, tenant_columns=tuple(dict.fromkeys(given + _CANDIDATES)))
    facts = []
    discoverers = python_discoverers()
    paths = list(walk(root, reading))
    for path in paths:
        facts.extend(discover_file(path, reading, discoverers))
    app = [f for f in facts if not is_test_path(getattr(f, "path", ""))]
    tables = schema_columns([f for f in app if isinstance(f, TableFact)],
                            mapped_models([f for f in app if isinstance(f, ModelFact)]),
                            [f for f in app if isinstance(f, SchemaFact)])
    proposal = runner_up = None
    if not given:
        proposal, runner_up = propose(tables)
        given = (proposal.column,) if proposal else ("tenant_id",)
    settings = Settings(root=root, tenant_columns=given)
    catalog = assemble_facts(settings, facts)
    tenant_tables = set(catalog.tables)
    rels = [relative(path, root) for path in paths]
    reached = _reached(tables, tenant_tables)
    return Discovered(
        tenant_columns=given,
        tenant_tables=tuple(sorted(tenant_tables)),
        # Models with a tenant column of their own: one that is tenant data through its parent
        # is found from its foreign keys, and listing it would make it a direct one.
        tenant_models=tuple(sorted(m.qualname or m.name for m in catalog.models.values() if m.tenant_columns)),
        global_looking=tuple(sorted(t for t in tables if t not in tenant_tables and t not in reached)),
        reached=tuple(sorted(reached.items())),
        proposal=proposal, runner_up=runner_up, inferred=not tenant_columns,
        files=len(paths), table_count=len(tables),
        background=tuple((glob, what) for glob, what in BACKGROUND_GLOBS
                         if any(fnmatch.fnmatch(rel, glob) and not is_test_path(rel) for rel in rels)),
    )


def _reached(tables: dict[str, frozenset[str]], tenant_tables: set[str]) -> dict[str, str]:
    """Tables with no tenant column that hold a key to a tenant table (`task.project_id`
    -> `project`), directly or through up to three such keys (`annotation.task_id` ->
    `task`): their rows belong to a tenant through that parent, so they are not
    candidates for `global-tables`. Table -> the key."""
    out: dict[str, str] = {}
    for _ in range(3):
        owned = tenant_tables | set(out)
        found = {}
        for table, columns in tables.items():
            if table in owned:
                continue
            for column in sorted(columns):
                target = _target(column[:-3], tables) if column.endswith("_id") else None
                if target in owned and target != table:
                    found[table] = f"{column} -> {target}"
                    break
        if not found:
            break
        out.update(found)
    return out


def mapped_models(models: list) -> list:
    """The model facts that are ORM models. Django discovery records every class with a
    base (inheritance is resolved across files later), so a middleware, serializer or
    enum in a models module has a default table name too: a Django class is a model only
    when its ancestry reaches a library model base (`models.Model`, `AbstractUser`,
    `TenantModel`...)."""
    by_name: dict[str, list] = {}
    for fact in models:
        by_name.setdefault(fact.name, []).append(fact)
    memo: dict[str, bool] = {}

    def is_model(name: str, seen: frozenset[str]) -> bool:
        if name not in memo:
            memo[name] = False  # a cycle is not a model
            memo[name] = any(_model_base(q, by_name, seen | {name}, is_model)
                             for fact in by_name.get(name, ()) for q in fact.extra.get("base_qualnames", ()))
        return memo[name]

    return [f for f in models if f.framework != "django" or is_model(f.name, frozenset())]


def _model_base(qualified: str, by_name, seen: frozenset[str], is_model) -> bool:
    last = qualified.rsplit(".", 1)[-1]
    if last in by_name:
        return last not in seen and is_model(last, seen)
    return last.endswith(("Model", "User"))


def propose(tables: dict[str, frozenset[str]]) -> tuple[Proposal | None, Proposal | None]:
    """The tenant column the most tables share among keys named after a tenant word (an
    owner key only when there is none), and the runner-up (an owner key when there is
    no other tenant key). When the winner's own table
    carries another candidate (`projects.organization_id`), that one is the tenant above
    it: proposed instead, the winner becomes the runner-up."""
    def ranked(words: tuple[str, ...]) -> list[Proposal]:
        out = []
        for rank, word in enumerate(words):
            column = f"{word}_id"
            count = sum(1 for cols in tables.values() if column in cols)
            if count:
                out.append((-count, rank, Proposal(column, count, _target(word, tables))))
        return [p for *_, p in sorted(out, key=lambda e: e[:2])]

    owners = ranked(OWNER_WORDS)
    found = ranked(TENANT_WORDS) or owners
    if not found:
        return None, None
    best = found[0]
    for _ in range(3):  # a chain: team -> project -> organization
        above = [p for p in found if best.target and p.column in tables.get(best.target, ()) and p is not best]
        if not above:
            break
        best = replace(above[0], parent_of=best.column)
    runner_up = next((p for p in found + owners if p.column != best.column), None)
    return best, runner_up


def _target(word: str, tables: dict[str, frozenset[str]]) -> str | None:
    """The project's table that `<word>_id` points at, by the usual names."""
    for name in (f"{word}s", word, f"{word}es", f"{word[:-1]}ies" if word.endswith("y") else ""):
        for table in tables:
            if name and (table == name or table.endswith(f"_{name}")):
                return table
    return None


def _list(values, *, one_per_line: bool = False, comment: str = "") -> str:
    if not values:
        return "[]"
    if not one_per_line:
        return "[" + ", ".join(json.dumps(v) for v in values) + "]"
    inner = "".join(f"{comment}    {json.dumps(v)},\n" for v in values)
    return "[\n" + inner + f"{comment}]"


def render(found: Discovered, *, pyproject: bool) -> str:
    table = "[tool.tenantlint]" if pyproject else ""
    sub = "[tool.tenantlint.per-file-ignores]" if pyproject else "[per-file-ignores]"
    out = []
    if table:
        out.append(table)
    out.append("# Written by `tenantlint init`: review it, then commit it. Keys: `tenantlint scan --help`")
    out.append("# and docs/integrations.md. Discovery stays on, so new tenant tables are found too.")
    out.extend(_column_comment(found))
    out.append(f"tenant-columns = {_list(found.tenant_columns)}")
    out.append(f"# Discovered tenant tables ({len(found.tenant_tables)}).")
    out.append(f"tenant-tables = {_list(found.tenant_tables, one_per_line=len(found.tenant_tables) > 3)}")
    out.append(f"# Discovered tenant models ({len(found.tenant_models)}).")
    out.append(f"tenant-models = {_list(found.tenant_models, one_per_line=len(found.tenant_models) > 2)}")
    if found.reached:
        examples = ", ".join(f"{t}.{key}" for t, key in found.reached[:3])
        out.append(f"# {len(found.reached)} tables have no tenant column but a key to a tenant table: their rows")
        out.append(f"# belong to a tenant through it, they are not global ({examples}"
                   f"{', ...' if len(found.reached) > 3 else ''}).")
    if found.global_looking:
        out.append("# Tables with no tenant column. Shared by every tenant (plans, countries...)?")
        out.append("# Uncomment those that are; a table that should be per-tenant needs a tenant column.")
        out.append(f"# global-tables = {_list(found.global_looking, one_per_line=True, comment='# ')}")
    else:
        out.append("global-tables = []")
    out.append("# Context managers / decorators that establish tenant scope, e.g. \"app.db.tenant_context\".")
    out.append("scope-providers = []")
    out.append("# Files allowed to open SQL connections directly (your data layer), e.g. \"app/db.py\".")
    out.append("allow-raw-connections = []")
    out.append("")
    out.append(sub)
    out.append("# Tests and migrations legitimately span tenants; schema and RLS rules stay on.")
    out.append(f"\"tests/*\" = {_list(TEST_IGNORES)}")
    out.append(f"\"*/tests/*\" = {_list(TEST_IGNORES)}")
    out.append(f"\"*test_*.py\" = {_list(TEST_IGNORES)}")
    out.append(f"\"*migrations/*\" = {_list(MIGRATION_IGNORES)}")
    out.append(f"\"*alembic/versions/*\" = {_list(MIGRATION_IGNORES)}")
    out.append(f"\"*alembic/env.py\" = {_list(MIGRATION_IGNORES)}")
    if found.background:
        out.append("# Code that runs outside a request may span tenants on purpose. Review each, then")
        out.append("# uncomment with the reason, or fix its queries (a suppression per query is finer):")
        for glob, what in found.background:
            out.append(f"# {json.dumps(glob)} = {_list(BACKGROUND_IGNORES)}  # TODO: why {what} may cross tenants")
    return "\n".join(out) + "\n"


def _column_comment(found: Discovered) -> list[str]:
    """Why these tenant columns: given, proposed from the schema (with the runner-up), or
    the default because nothing tenant-like was found."""
    if not found.inferred:
        return []
    if found.proposal is None:
        return ["# No tenant-looking key (tenant_id, organization_id, team_id, workspace_id...) found in",
                f"# the {found.table_count} tables discovered: set the column that ties a row to a tenant."]
    lines = [f"# Proposed from the schema: {found.proposal.reason(found.table_count)}."]
    if found.runner_up is not None:
        lines.append(f"# Runner-up: {found.runner_up.reason(found.table_count)}.")
    lines.append("# List every column that ties a row to a tenant (names differ across tables).")
    return lines


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _strip_section(text: str) -> str:
    """pyproject text without `[tool.tenantlint]` and its sub-tables."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        match = _HEADER.match(line)
        if match:
            name = match.group(1).replace(" ", "").replace('"', "")
            skipping = name == "tool.tenantlint" or name.startswith("tool.tenantlint.")
        if not skipping:
            out.append(line)
    return "".join(out)


def write_starter(root: Path, *, force: bool = False,
                  tenant_columns: tuple[str, ...] | None = ("tenant_id",)) -> tuple[Path, Discovered]:
    """Write the starter config under `root`; returns the file written and what was
    discovered, from the project the written config will have (the repository around
    `root`). ConfigError when a section exists and `force` is not set."""
    toml_file, pyproject = root / "tenantlint.toml", root / "pyproject.toml"
    if toml_file.exists():
        if not force:
            raise ConfigError(f"{toml_file.name} already exists; use --force to replace it")
        target, existing = toml_file, ""
    elif pyproject.exists():
        target = pyproject
        try:
            existing = pyproject.read_text(encoding="utf-8")
            data = tomllib.loads(existing)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {pyproject.name}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{pyproject.name} is not valid TOML ({exc}); fix it before `tenantlint init`") from None
        if "tenantlint" in data.get("tool", {}):
            if not force:
                raise ConfigError(f"{pyproject.name} already has a [tool.tenantlint] section; use --force to replace it")
            existing = _strip_section(existing)
    else:
        target, existing = toml_file, ""
    found = discover(repository_root(root.resolve()) or root, tenant_columns)
    section = render(found, pyproject=target.name == "pyproject.toml")
    if existing and not existing.endswith("\n"):
        existing += "\n"
    text = existing + ("\n" if existing.strip() else "") + section if existing.strip() else section
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target, found
