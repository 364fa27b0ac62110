"""The registry: every rule and every checker, listed explicitly.

Adding a rule means adding its class here; a meta-test checks that each one is
documented, has runnable examples and is exercised by a fixture."""
from __future__ import annotations

from tenantlint.config import ConfigError
from tenantlint.rulebase import Checker, Rule
from tenantlint.rules import connections, documents, memo, meta, orm, schema, sql, stores, writes

RULES: tuple[type[Rule], ...] = (
    meta.ParseError,
    meta.UnverifiableScope,
    meta.BadSuppression,
    sql.SqlUnscopedQuery,
    sql.SqlWeakenedTenantPredicate,
    sql.SqlInsertWithoutTenant,
    sql.SqlJoinUnscoped,
    sql.SqlSessionLevelTenant,
    sql.SqlInterpolatedIdentifier,
    sql.SqlRlsBypass,
    orm.OrmUnscopedQuery,
    orm.OrmUnscopedBulkWrite,
    writes.OrmWriteWithoutTenant,
    connections.RawConnection,
    stores.CacheKeyUnscoped,
    stores.VectorQueryUnscoped,
    stores.ObjectKeyUnscoped,
    stores.VectorWriteUntagged,
    documents.DocumentQueryUnscoped,
    documents.GraphQueryUnscoped,
    memo.MemoizedWithoutTenant,
    documents.SharedStoreWipe,
    schema.RlsNotEnabled,
    schema.RlsNotForced,
    schema.RlsPolicyMissing,
    schema.TenantIndexMissing,
    writes.TenantFromRequest,
)

# Per-file checkers, in the order they visit (batched visitors over one `ast` tree).
CHECKERS: tuple[type[Checker], ...] = (
    sql.SqlChecker,
    *orm.CHECKERS,
    *connections.CHECKERS,
    *stores.CHECKERS,
    *documents.CHECKERS,
    *memo.CHECKERS,
    *writes.CHECKERS,
)

BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in RULES}


def rule_for(code: str) -> type[Rule]:
    return BY_CODE[code]


def validate_codes(codes, where: str) -> None:
    """Each entry must be a known code or a prefix of one (`TL1`, `TL`, `ALL`)."""
    for code in codes:
        upper = code.upper()
        if upper == "ALL":
            continue
        if not any(known.startswith(upper) for known in BY_CODE):
            raise ConfigError(f"{where}: unknown rule code `{code}`")


def matches(code: str, patterns) -> bool:
    return any(p.upper() == "ALL" or code.startswith(p.upper()) for p in patterns)


__all__ = ["RULES", "CHECKERS", "BY_CODE", "Rule", "Checker", "rule_for", "validate_codes", "matches"]
