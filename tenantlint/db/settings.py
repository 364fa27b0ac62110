"""What the live-database commands need to know, independent of click and psycopg."""
from __future__ import annotations

from dataclasses import dataclass

from tenantlint.diagnostics import Diagnostic, Location, Severity

DEFAULT_TENANT_SETTING = "app.tenant_id"

RULES = {
    "TL107": ("sql-rls-bypass", Severity.ERROR),
    "TL501": ("rls-not-enabled", Severity.ERROR),
    "TL502": ("rls-not-forced", Severity.ERROR),
    "TL503": ("rls-policy-missing", Severity.ERROR),
    "TL504": ("tenant-index-missing", Severity.WARNING),
}


@dataclass(frozen=True)
class DbSettings:
    tenant_columns: tuple[str, ...] = ("tenant_id",)
    # None: every non-system schema.
    schemas: tuple[str, ...] | None = None
    # Tables (name or schema.name) shared by all tenants: never reported.
    global_tables: tuple[str, ...] = ()
    # The role the application connects as; None: the role of the audit's connection.
    app_role: str | None = None
    # Custom setting that carries the current tenant (probe).
    tenant_setting: str = DEFAULT_TENANT_SETTING


def finding(code: str, path: str, message: str, key: str, context: str) -> Diagnostic:
    """A database finding: located at `schema.table` (or `role:NAME`), line 1, column 1.
    `key` names the specific defect so that fingerprints stay distinct and stable."""
    name, severity = RULES[code]
    return Diagnostic(code=code, name=name, severity=severity, message=message, path=path,
                      location=Location(1, 1, 1, 1), context=context, snippet=key)
