"""A parameter is trusted when every call in the project passes a trusted value
(tenantlint/discover/call_sites.py records what each call passes, tenantlint/caller_trust.py
solves it); the message says so when it is not."""
from __future__ import annotations

import ast

from project_scan import scan_project

from tenantlint.discover.call_sites import Describer

MODELS = '''\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Agent(Base):
    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, index=True)
'''


def _words(source: str, params=("agent_id",), inputs=()) -> list[str]:
    """The word of each argument of the last call of `source`'s only function."""
    func = ast.parse(source).body[0]
    values = {}
    describer = Describer(frozenset(params), frozenset(inputs), frozenset({"tenant_id", "tenant"}), values)
    for stmt in func.body[:-1]:
        values[stmt.targets[0].id] = stmt.value
    call = func.body[-1].value
    return [describer.word(a) for a in call.args]


def test_what_a_call_passes_in_the_callers_own_syntax():
    assert _words("def f(agent_id):\n    g(1, agent_id, int(agent_id))\n") == ["t", "p:agent_id", "p:agent_id"]
    # the key of an object in hand, a tenant value; not what the client sent
    assert _words("def f(agent):\n    g(agent.id, user.tenant_id, request.data.id)\n") == ["t", "t", "u"]
    assert _words("async def f():\n    body = await request.json()\n    g(body.agent_id)\n") == ["u"]
    # a route's body model is the client's; another local is trusted only once verified
    assert _words("def f(body, x):\n    y = x + 1\n    g(body.agent_id, y)\n", ("body", "x"), ("body",)) == \
        ["u", "n:y"]


def test_callers_that_pass_the_client_or_hide_the_argument_leave_the_id_untrusted(tmp_path):
    report = scan_project(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/helpers.py": '''\
            from app.models import Agent


            def from_a_body(session, agent_id):
                return session.get(Agent, agent_id)


            def from_opaque_job_args(session, agent_id):
                return session.get(Agent, agent_id)


            def from_a_row(session, agent_id):
                return session.get(Agent, agent_id)
        ''',
        "app/routes.py": '''\
            from fastapi import APIRouter

            from app.helpers import from_a_body, from_a_row, from_opaque_job_args
            from app.models import Agent

            router = APIRouter()


            @router.post("/agents/move")
            async def move_agent(body: MoveAgent, session, user):
                agent = session.execute(select(Agent).where(Agent.tenant_id == user.tenant_id)).scalar_one()
                from_opaque_job_args.apply_async(args=job_args(agent))
                return from_a_body(session, body.agent_id), from_a_row(session, agent.id)
        ''',
    })
    found = {(d.path, d.location.line, d.code) for d in report.diagnostics}
    assert ("app/helpers.py", 5, "TL201") in found
    assert ("app/helpers.py", 9, "TL201") in found
    assert ("app/helpers.py", 13, "TL201") not in found


def test_self_of_an_object_that_is_no_row_is_named_so(tmp_path):
    report = scan_project(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/service.py": '''\
            from app.models import Agent


            class Finder:
                def agent(self, session):
                    return session.get(Agent, self)
        ''',
    })
    [finding] = [d for d in report.diagnostics if d.code == "TL201"]
    assert finding.message.endswith("(by the object the method is called on)")


def test_a_cached_result_is_not_reused_once_a_caller_in_another_file_changes(tmp_path):
    helper = '''\
        from app.models import Agent


        def read(session, agent_id):
            return session.get(Agent, agent_id)
    '''
    caller = '''\
        from app.helpers import read


        def job(session, agent):
            return read(session, {})
    '''
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/helpers.py": helper,
             "app/jobs.py": caller.format("agent.id")}
    report = scan_project(tmp_path, files, use_cache=True)
    assert not [d for d in report.diagnostics if d.code == "TL201"]
    report = scan_project(tmp_path, {"app/jobs.py": caller.format("agent.payload")}, use_cache=True)
    assert [(d.path, d.location.line) for d in report.diagnostics if d.code == "TL201"] == [("app/helpers.py", 5)]


def test_a_route_parameter_is_trusted_at_a_call_only_once_a_verifier_checked_it(tmp_path):
    report = scan_project(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/checks.py": '''\
            from sqlalchemy import select

            from app.models import Agent


            def check_agent(session, agent_id, tenant_id):
                return session.execute(select(Agent).where(Agent.id == agent_id, Agent.tenant_id == tenant_id)).one()
        ''',
        "app/helpers.py": '''\
            from app.models import Agent


            def after_the_check(session, agent_id):
                return session.get(Agent, agent_id)


            def without_a_check(session, agent_id):
                return session.get(Agent, agent_id)
        ''',
        "app/routes.py": '''\
            from fastapi import APIRouter

            from app.checks import check_agent
            from app.helpers import after_the_check, without_a_check

            router = APIRouter()


            @router.get("/agents/{agent_id}")
            async def read_agent(agent_id: int, session, user):
                check_agent(session, agent_id, user.tenant_id)
                return after_the_check(session, agent_id)


            @router.get("/agents/{agent_id}/raw")
            async def read_raw(agent_id: int, session):
                return without_a_check(session, agent_id)
        ''',
    })
    found = {(d.path, d.location.line) for d in report.diagnostics if d.code == "TL201"}
    assert ("app/helpers.py", 5) not in found
    assert ("app/helpers.py", 9) in found
