"""The ORM's side of the flow engine's path cap: forms given up are unverifiable, never clean."""
import ast

from tenantlint.orm.state import Root, State, judge, opaque_forms


def test_forms_given_up_are_judged_unverifiable_not_clean():
    root = Root(ast.Name(id="qs"), "django")
    forms = {State(root, models=frozenset({"Invoice", "Order"}), scoped=frozenset({"Invoice"})),
             State(root, models=frozenset({"Invoice", "Order"}), scoped=frozenset({"Invoice", "Order"}))}
    given_up = opaque_forms(forms)
    assert len(given_up) == 1
    (state,) = given_up
    assert state.opaque and state.scoped == {"Invoice"}
    verdict = judge(given_up, frozenset())
    assert verdict.code == "TL002" and verdict.models == ["Order"]


def test_one_opaque_form_per_query():
    a, b = Root(ast.Name(id="a"), "django"), Root(ast.Name(id="b"), "sqlalchemy")
    forms = {State(a, models=frozenset({"M"})), State(a, models=frozenset({"M"}), write=True),
             State(b, models=frozenset({"N"}), scoped=frozenset({"N"}))}
    by_root = {s.root.framework: s for s in opaque_forms(forms)}
    assert by_root["django"].write and by_root["django"].opaque
    assert judge([by_root["sqlalchemy"]], frozenset()) is None  # scoped in every form: still scoped
