"""Fuzzing: the analysis never raises, on generated valid Python (hypothesmith) and on
generated SQL inside `execute(...)` calls.

CI runs a few examples (profile `ci`, the default here); for a long local run:

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/robustness/test_fuzz.py
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tenantlint.catalog import assemble
from tenantlint.config import Settings
from tenantlint.engine import _check_python
from tenantlint.sql import SqlText, analyze_sql

hypothesmith = pytest.importorskip("hypothesmith")

settings.register_profile("ci", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

SETTINGS = Settings(tenant_columns=("tenant_id",), tenant_tables=("orders", "users"),
                    scope_providers=("app.db.tenant_scope",))
CATALOG = assemble(SETTINGS, (), (), ())

SQL_TOKENS = [
    "SELECT", "*", "FROM", "orders", "users", "o", "WHERE", "tenant_id", "=", "%s", "%(t)s", ":t", "$1", "?",
    "AND", "OR", "NOT", "(", ")", "[", "]", "ARRAY", ",", "JOIN", "ON", "USING", "UPDATE", "SET", "DELETE",
    "INSERT", "INTO", "VALUES", "WITH", "AS", "UNION", "ALL", "IN", "ANY", "IS", "NULL", "<>", "LATERAL",
    "MERGE", "WHEN", "MATCHED", "THEN", "current_setting('app.tenant_id')", "'it''s'", "'", '"', "--", "/*",
    "*/", ";", "LOCAL", "search_path", "ALTER", "TABLE", "DISABLE", "ROW", "LEVEL", "SECURITY", "1", "0.5",
    "{}", "{name}", "$$", "E'\\n'", "::int", "ON CONFLICT", "DO", "NOTHING", "ORDER BY", "LIMIT",
]
sql_text = st.one_of(
    st.lists(st.sampled_from(SQL_TOKENS), min_size=1, max_size=40).map(" ".join),
    st.text(max_size=200),
    st.builds(lambda a, b: "SELECT * FROM orders WHERE " + a + b, st.text(max_size=50), st.text(max_size=50)),
)


@settings(settings.get_profile(PROFILE))
@given(hypothesmith.from_grammar())
def test_generated_python_never_raises(source):
    _check_python(source, "gen.py", SETTINGS, CATALOG)


@settings(settings.get_profile(PROFILE))
@given(sql_text, st.sampled_from(["{!r}", "f{!r}", "{!r} + x", "{!r} % (a,)", "{!r}.format(t=1)"]))
def test_generated_sql_in_execute_never_raises(sql, shape):
    literal = shape.format(sql)
    source = f"import psycopg\n\ndef f(cur, x, a):\n    cur.execute({literal})\n"
    try:
        compile(source, "gen.py", "exec")
    except (SyntaxError, ValueError):
        return  # an f-string whose braces do not balance: not this test's subject
    _check_python(source, "gen.py", SETTINGS, CATALOG)
    assert analyze_sql(SqlText(sql), CATALOG.sql_policy()) is None or True
