"""A parent-key predicate anchors a child table only with a trusted value: the analysis
names the parameters bound to one, and refuses those the caller found untrusted."""
from __future__ import annotations

import pytest

from tenantlint.sql import SqlPolicy, SqlText, TenantTable, analyze_sql
from tenantlint.sql.bound_params import selected_columns
from tenantlint.sql.parent_keys import UNSEEN
from tenantlint.sql.types import Hole

POLICY = SqlPolicy(
    tenant_columns=frozenset({"tenant_id"}),
    tenant_tables={"apps": TenantTable("apps", frozenset({"tenant_id"}))},
    parent_keys={"conversations": {"app_id": "apps"}, "messages": {"conversation_id": "conversations"}},
)


def run(text: str, untrusted=None, holes=()):
    params: set = set()
    issues = analyze_sql(SqlText(text, holes), POLICY, untrusted=untrusted, parent_params=params)
    return {i.code for i in issues or ()}, params, [i.message for i in issues or ()]


@pytest.mark.parametrize("text, keys", [
    ("SELECT * FROM conversations WHERE app_id = %s", {1}),
    ("SELECT * FROM conversations WHERE title = %s AND app_id = %s", {2}),
    ("SELECT * FROM conversations WHERE app_id = :app", {"app"}),
    ("SELECT * FROM conversations WHERE app_id = %(app)s", {"app"}),
    ("SELECT * FROM conversations WHERE app_id = $2", {2}),
    ("SELECT * FROM conversations WHERE app_id = ANY(%s)", {1}),
    ("SELECT * FROM conversations WHERE app_id IN (%s, %s)", {1, 2}),
    ("DELETE FROM messages WHERE conversation_id = ?", {1}),
    # a constant anchors as before; a tenant column takes any value
    ("SELECT * FROM conversations WHERE app_id = 7", set()),
    ("SELECT * FROM apps WHERE tenant_id = %s", set()),
])
def test_parameters_bound_to_parent_keys(text, keys):
    found, params, _ = run(text)
    assert found == set() and params == keys


def test_subquery_parameters_belong_to_the_subquery():
    found, params, _ = run("SELECT * FROM messages WHERE conversation_id = "
                           "(SELECT id FROM conversations WHERE app_id = %s)")
    assert params == {1} and found == set()  # the subquery's own parent key


def test_untrusted_value_anchors_nothing_and_says_where_it_comes_from():
    found, _, messages = run("SELECT * FROM conversations WHERE app_id = %s", {1: "by an id from the request"})
    assert found == {"TL101"}
    assert "by an id from the request" in messages[0] and "`app_id`" in messages[0]


def test_only_the_untrusted_parameter_is_refused():
    found, _, _ = run("SELECT * FROM conversations WHERE app_id = :a AND app_id = :b",
                      {"a": "by an id the caller passes"})
    assert found == set()  # `:b` still anchors


def test_a_child_joined_up_the_chain_needs_no_trusted_id():
    found, _, _ = run("SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                      "JOIN apps a ON a.id = c.app_id WHERE a.tenant_id = %s AND m.conversation_id = %s",
                      {2: "by an id from the request"})
    assert found == set()


def test_refused_parent_unanchors_the_child_tied_to_it():
    found, _, messages = run("SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                             "WHERE c.app_id = %s", {1: "by an id from the request"})
    assert found == {"TL101"} and "messages" in messages[0] and "conversations" in messages[0]


def test_value_out_of_sight_is_unverifiable():
    found, _, _ = run("SELECT * FROM conversations WHERE app_id = %s", {1: UNSEEN})
    assert found == {"TL002"}


def test_interpolated_value_is_keyed_by_its_hole():
    holes = (Hole("__tlhole0__", "fstring", "app_id"),)
    found, params, _ = run("SELECT * FROM conversations WHERE app_id = __tlhole0__", holes=holes)
    assert params == {"__tlhole0__"} and found == set()
    found, _, _ = run("SELECT * FROM conversations WHERE app_id = __tlhole0__",
                      {"__tlhole0__": "by an id from the request"}, holes)
    assert found == {"TL101"}


@pytest.mark.parametrize("text, columns", [
    ("SELECT name, id FROM apps WHERE tenant_id = %s", ("name", "id")),
    ("SELECT a.id AS app, count(*) FROM apps a", ("app", None)),
    ("SELECT * FROM apps", ()),
    ("SELECT a.* FROM apps a", ()),
    ("DELETE FROM apps WHERE id = %s", ()),
    ("SELEC nonsense (", ()),
])
def test_selected_columns_name_a_tuple_rows_positions(text, columns):
    assert selected_columns(text) == columns
