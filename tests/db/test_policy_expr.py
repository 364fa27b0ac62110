"""Policy expressions as pg_get_expr deparses them (no server needed)."""
from __future__ import annotations

import pytest

from tenantlint.db.policy_expr import Verdict, judge

SETTING = "(current_setting('app.tenant_id'::text, true))::uuid"


@pytest.mark.parametrize("expr, verdict", [
    (f"(tenant_id = {SETTING})", Verdict.CONSTRAINS),
    (f"({SETTING} = tenant_id)", Verdict.CONSTRAINS),
    ("((tenant_id)::text = current_setting('app.tenant_id'::text))", Verdict.CONSTRAINS),
    ('("tenant_id" = current_setting(\'x\'::text)::uuid)', Verdict.CONSTRAINS),
    ("(tenant_id IN ( SELECT m.tenant_id FROM members m WHERE (m.username = CURRENT_USER)))", Verdict.CONSTRAINS),
    ("(tenant_id = ANY (ARRAY['a'::uuid]))", Verdict.CONSTRAINS),
    (f"((deleted_at IS NULL) AND (tenant_id = {SETTING}))", Verdict.CONSTRAINS),
    ("true", Verdict.ALWAYS_TRUE),
    ("false", Verdict.NEVER),
    (f"((tenant_id = {SETTING}) OR is_public)", Verdict.OR_ESCAPE),
    (f"((tenant_id = {SETTING}) OR (current_setting('app.bypass'::text, true) = 'on'::text))", Verdict.OR_ESCAPE),
    ("(tenant_id = tenant_id)", Verdict.SELF),
    ("(owner = CURRENT_USER)", Verdict.UNRELATED),
    ("(tenant_id IS NOT NULL)", Verdict.UNRELATED),
    ("(tenant_id <> '00000000-0000-0000-0000-000000000000'::uuid)", Verdict.UNRELATED),
    ("(tenant_id_old = 'x'::uuid)", Verdict.UNRELATED),
    ("(note = 'tenant_id = 1 OR true'::text)", Verdict.UNRELATED),
])
def test_judge(expr, verdict):
    assert judge(expr, "tenant_id") is verdict
