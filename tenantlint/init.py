"""`tenantlint init`: a starter `[tool.tenantlint]` section from what discovery finds.

It lists the discovered tenant tables and models (discovery stays on, so listing them
pins them even if their definitions later move out of the tree), lists tables with no
tenant column commented out under `global-tables` for a human to review (a table that
is shared on purpose should be declared, not guessed), and adds per-file-ignores for
tests and migrations. It appends to pyproject.toml when there is one (never rewriting
what is there), else writes tenantlint.toml; an existing section is only replaced with
`--force`."""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tenantlint.config import ConfigError, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Code that legitimately spans tenants: tests build fixtures for several tenants;
# migrations backfill every tenant's rows and open their own connections. Schema rules
# (TL5xx), RLS bypass (TL107) and session-level settings (TL105) stay on everywhere.
TEST_IGNORES = ("TL101", "TL102", "TL103", "TL104", "TL2", "TL301", "TL4")
MIGRATION_IGNORES = ("TL101", "TL103", "TL104", "TL201", "TL202", "TL301")


@dataclass(frozen=True)
class Discovered:
    tenant_columns: tuple[str, ...]
    tenant_tables: tuple[str, ...]
    tenant_models: tuple[str, ...]
    global_looking: tuple[str, ...]


def discover(root: Path, tenant_columns: tuple[str, ...] = ("tenant_id",)) -> Discovered:
    from tenantlint.catalog import ModelFact, TableFact
    from tenantlint.discover import assemble_facts, discover_file, python_discoverers
    from tenantlint.files import walk

    settings = Settings(root=root, tenant_columns=tuple(c.lower() for c in tenant_columns))
    facts = []
    discoverers = python_discoverers()
    for path in walk(root, settings):
        facts.extend(discover_file(path, settings, discoverers))
    catalog = assemble_facts(settings, facts)
    tenant_tables = set(catalog.tables)
    shared: set[str] = set()
    for fact in facts:
        if isinstance(fact, TableFact) and not fact.origin.endswith("-alter"):
            name = fact.name.lower().rsplit(".", 1)[-1]
            if name not in tenant_tables:
                shared.add(name)
        elif isinstance(fact, ModelFact) and not fact.abstract and fact.name not in catalog.models:
            table = fact.table or fact.default_table
            name = table.lower().rsplit(".", 1)[-1] if table else fact.name
            if name not in tenant_tables:
                shared.add(name)
    return Discovered(
        tenant_columns=tuple(settings.tenant_columns),
        tenant_tables=tuple(sorted(tenant_tables)),
        tenant_models=tuple(sorted(m.qualname or m.name for m in catalog.models.values())),
        global_looking=tuple(sorted(shared)),
    )


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
    out.append(f"tenant-columns = {_list(found.tenant_columns)}")
    out.append(f"# Discovered tenant tables ({len(found.tenant_tables)}).")
    out.append(f"tenant-tables = {_list(found.tenant_tables, one_per_line=len(found.tenant_tables) > 3)}")
    out.append(f"# Discovered tenant models ({len(found.tenant_models)}).")
    out.append(f"tenant-models = {_list(found.tenant_models, one_per_line=len(found.tenant_models) > 2)}")
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
    return "\n".join(out) + "\n"


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


def write_starter(root: Path, *, force: bool = False, tenant_columns: tuple[str, ...] = ("tenant_id",)) -> Path:
    """Write the starter config under `root`; returns the file written. ConfigError
    when a section exists and `force` is not set."""
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
    section = render(discover(root, tenant_columns), pyproject=target.name == "pyproject.toml")
    if existing and not existing.endswith("\n"):
        existing += "\n"
    text = existing + ("\n" if existing.strip() else "") + section if existing.strip() else section
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
