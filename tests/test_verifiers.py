"""Project helpers that verify an id against the tenant (tenantlint/discover/verifiers.py),
in SQLAlchemy and Django shapes, sync and async; and what verifies nothing."""
from __future__ import annotations

import ast
import textwrap

from tenantlint.config import load_settings
from tenantlint.discover.verifiers import Verifiers, verifier_index

SOURCE = '''\
async def validate_agent(session, agent_id, actor):
    query = select(Agent.id).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)
    if (await session.execute(query)).scalar_one_or_none() is None:
        raise NoResultFound(agent_id)


def load_tool(session, tool_id, org_id):
    return session.execute(select(Tool).where(Tool.id == tool_id, Tool.organization_id == org_id)).scalar_one()


def check_rows(session, tool_id, org_id):
    rows = session.execute(select(Tool.id).where(Tool.id == tool_id, Tool.organization_id == org_id)).all()
    if len(rows) == 0:
        abort(404)


def django_get(request, pk):
    return Project.objects.get(pk=pk, organization=request.user.active_organization)


def django_shortcut(request, project_id):
    return get_object_or_404(Project, id=project_id, organization_id=request.user.organization_id)


def answers_only(session, agent_id, org_id):
    found = session.execute(select(Agent.id).where(Agent.id == agent_id, Agent.organization_id == org_id)).first()
    if found is None:
        return False
    return True


def weakened(session, agent_id, org_id):
    return session.execute(
        select(Agent).where(Agent.id == agent_id, or_(Agent.organization_id == org_id, Agent.public == True))
    ).one()


def no_tenant(session, agent_id):
    return session.execute(select(Agent).where(Agent.id == agent_id)).one()


def no_check(session, agent_id, org_id):
    return session.execute(select(Agent).where(Agent.id == agent_id, Agent.organization_id == org_id)).first()


class Service:
    def method(self, agent_id, org_id):
        return select(Agent).where(Agent.id == agent_id, Agent.organization_id == org_id).one()
'''


def _index(tmp_path) -> dict:
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["organization_id"]\n')
    settings = load_settings(tmp_path / "tenantlint.toml", cwd=tmp_path)
    finder = Verifiers()
    assert finder.wants_file(SOURCE.encode(), settings)
    facts = list(finder.discover(ast.parse(textwrap.dedent(SOURCE)), "app/checks.py", "app.checks", settings))
    return verifier_index(facts)


def test_helpers_that_verify_an_id(tmp_path):
    index = _index(tmp_path)
    assert index["app.checks.validate_agent"] == (((1, "agent_id"),), ())  # async, `if <query> is None: raise`
    assert index["app.checks.load_tool"] == (((1, "tool_id"),), ("Tool",))  # `.scalar_one()`; returns the row
    assert index["app.checks.check_rows"] == (((1, "tool_id"),), ())  # `if len(rows) == 0: abort(404)`
    assert index["app.checks.django_get"] == (((1, "pk"),), ("Project",))  # Django `.get()` raises DoesNotExist
    assert index["app.checks.django_shortcut"] == (((1, "project_id"),), ("Project",))


def test_helpers_that_return_scoped_rows(tmp_path):
    index = _index(tmp_path)
    assert index["app.checks.no_check"] == ((), ("Agent",))  # `.first()`: a scoped row or None, nothing verified


def test_methods_count_positions_after_self(tmp_path):
    assert _index(tmp_path)["app.checks.Service.method"] == (((0, "agent_id"),), ("Agent",))


def test_what_verifies_nothing(tmp_path):
    index = _index(tmp_path)
    assert "app.checks.answers_only" not in index  # returns an answer the caller may ignore
    assert "app.checks.weakened" not in index  # the tenant condition is under `or`
    assert "app.checks.no_tenant" not in index


def test_a_file_without_a_tenant_column_is_not_read(tmp_path):
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["organization_id"]\n')
    settings = load_settings(tmp_path / "tenantlint.toml", cwd=tmp_path)
    assert not Verifiers().wants_file(b"def f(x):\n    raise ValueError(x)\n", settings)
