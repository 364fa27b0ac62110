"""TL501-TL504, judged once per scan on the tenant catalog and reported at each tenant
table's definition in the tree (the first `CREATE TABLE`, `op.create_table` or model).
ENABLE, FORCE, policies and indexes may come from any file: migrations are a sequence."""
from __future__ import annotations

from typing import Iterator

from tenantlint.catalog import TenantCatalog
from tenantlint.config import Settings
from tenantlint.diagnostics import Diagnostic, Location
from tenantlint.rules import rule_for
from tenantlint.trace import KNOWN, NOT_TENANT, SCOPED, UNSCOPED, Decision, Recorder

# Where a table is created by a migration, that is its definition; a model class only
# when no migration in the tree creates it. `*-alter` facts (a column added to an
# existing table) are never a definition.
_MIGRATIONS = ("sql", "python", "alembic", "django-migration")


def check_project(catalog: TenantCatalog, settings: Settings, trace: Recorder | None = None) -> Iterator[Diagnostic]:
    """With `trace` (`tenantlint why`), each defined tenant table's RLS and index state is
    recorded at its definition, with the statements that established it."""
    for name in sorted(catalog.tables):
        definitions = [d for d in catalog.definitions.get(name, ()) if not d.origin.endswith("-alter")]
        if not definitions:
            continue  # tables known only from config (or only altered here) are not defined here
        where = min(definitions, key=lambda d: (d.origin not in _MIGRATIONS, d.path, d.line))
        state = catalog.rls.get(name)
        column = "`" + "`/`".join(sorted(catalog.tables[name].tenant_columns)) + "`"
        findings = []
        if settings.require_rls and state is not None:
            if not state.enabled:
                findings.append(("TL501", f"`{name}` has no ENABLE ROW LEVEL SECURITY"))
            elif not state.forced:
                findings.append(("TL502", f"`{name}` enables row-level security without FORCE: its owner bypasses it"))
            if state.enabled and not state.tenant_policy:
                findings.append(("TL503", f"`{name}` has row-level security but no policy on {column}"))
            elif state.enabled and not state.policy_with_check:
                findings.append(("TL503", f"`{name}`'s tenant policy has no WITH CHECK: writes can cross tenants"))
        if state is not None and not state.indexed:
            findings.append(("TL504", f"`{name}` has no index led by {column}"))
        if trace is not None:
            _trace(trace, catalog, name, where, state, settings.require_rls)
        for code, message in findings:
            rule = rule_for(code)
            line = where.line
            yield Diagnostic(code=code, name=rule.name, severity=rule.severity, message=message, path=where.path,
                             location=Location(line, 1, line, 1), context=name, snippet=f"{code}:{name}",
                             suppress_lines=(line, max(line, where.end_line)))


def _trace(trace: Recorder, catalog: TenantCatalog, name: str, where, state, require_rls: bool) -> None:
    facts = {f.ddl.kind: f for f in catalog.schema_facts if f.ddl.kind in _EVIDENCE and _same(f.ddl.table, name)}
    span = (where.line, max(where.line, where.end_line))
    cols = "/".join(sorted(catalog.tables[name].tenant_columns))
    trace.record(Decision("schema", *span, name, KNOWN, f"a tenant table: it has `{cols}`", path=where.path))
    for kind, said in _EVIDENCE.items():
        fact = facts.get(kind)
        held = state is not None and getattr(state, _STATE[kind])
        verdict = SCOPED if held else (UNSCOPED if require_rls or kind == "index" else NOT_TENANT)
        text = said if held else f"no {said.removeprefix('a ').removeprefix('an ')}" + (
            "" if require_rls or kind == "index" else " (require-rls is off)")
        trace.record(Decision("schema", *span, name, verdict, text, (fact.path, fact.line) if held and fact else None,
                              path=where.path))


_EVIDENCE = {"enable_rls": "ENABLE ROW LEVEL SECURITY", "force_rls": "FORCE ROW LEVEL SECURITY",
             "policy": "a policy on the tenant column", "index": "an index led by the tenant column"}
_STATE = {"enable_rls": "enabled", "force_rls": "forced", "policy": "tenant_policy", "index": "indexed"}


def _same(table: str, name: str) -> bool:
    return table.lower().rsplit(".", 1)[-1].strip('"`[]') == name
