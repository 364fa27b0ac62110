"""SQL analysis: the only package that imports sqlglot (through `glot`)."""
from tenantlint.sql.analyze import analyze_sql
from tenantlint.sql.ddl import ddl_facts
from tenantlint.sql.statements import looks_like_sql, split_statements
from tenantlint.sql.types import DdlFact, Hole, SqlIssue, SqlPolicy, SqlText, TenantTable

__all__ = [
    "analyze_sql", "ddl_facts", "split_statements", "looks_like_sql",
    "DdlFact", "Hole", "SqlIssue", "SqlPolicy", "SqlText", "TenantTable",
]
