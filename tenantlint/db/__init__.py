"""Live PostgreSQL checks: `tenantlint db audit` reads the catalog, `tenantlint db probe`
tries to cross tenants as the application role (always rolled back).

Needs the `db` extra (psycopg 3); importing this package does not."""
from tenantlint.db.audit import UnknownRole, audit
from tenantlint.db.probe import ProbeError, probe
from tenantlint.db.settings import DbSettings

__all__ = ["DbSettings", "ProbeError", "UnknownRole", "audit", "probe"]
