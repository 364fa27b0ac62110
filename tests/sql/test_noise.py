"""SQL noise: TL105 only for settings that carry the tenant, and `.format` clause holes
after an anchored predicate (SPEC: a hole does not weaken an anchored scope)."""
import pytest

from sql_helpers import POLICY, codes, fstring
from tenantlint.sql import SqlPolicy

READS = SqlPolicy(POLICY.tenant_columns, POLICY.tenant_tables, POLICY.global_tables, POLICY.trusted_tables,
                  tenant_settings=frozenset({"app.current_account"}))


@pytest.mark.parametrize(("sql", "expected"), [
    ("SET cz.storage.write_buffer_size = 268435456", set()),
    ("SET app.request_id = %s", set()),
    ("SELECT set_config('cz.sql.threshold', '0.8', false)", set()),
    ("SET app.current_account = %s", set()),  # not named for the tenant, and not read here
    ("SET app.tenant_id = %s", {"TL105"}),
    ("SET ROLE tenant_reader", {"TL105"}),
    ("SET LOCAL ROLE tenant_reader", set()),
    ("SET role = tenant_reader", {"TL105"}),
])
def test_tl105_only_for_tenant_settings(sql, expected):
    assert codes(sql) == expected


def test_a_setting_the_project_reads_carries_the_tenant():
    assert codes("SET app.current_account = %s", policy=READS) == {"TL105"}
    assert codes("SELECT set_config('app.current_account', %s, false)", policy=READS) == {"TL105"}


H2 = fstring("__tlhole0__", "__tlhole1__")


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT kind FROM orders WHERE tenant_id = %(t)s __tlhole0__ __tlhole1__ GROUP BY kind", set()),
    ("SELECT kind FROM orders WHERE tenant_id = %s __tlhole0__ ORDER BY kind", set()),
    ("SELECT o.id FROM orders o JOIN customers c ON c.tenant_id = o.tenant_id "
     "WHERE o.tenant_id = %s __tlhole0__", set()),
    ("SELECT kind FROM orders WHERE kind = 'x' __tlhole0__", {"TL002"}),
    ("SELECT kind FROM orders WHERE tenant_id = %s OR kind = 'x' __tlhole0__", {"TL102"}),
])
def test_clause_holes_after_an_operand(sql, expected):
    assert codes(sql, holes=H2) == expected
