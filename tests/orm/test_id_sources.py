"""Where an untrusted id comes from, as the message says it: the request (what the client
sent, a route's path, query or body parameter, per framework) or the caller."""
from __future__ import annotations

import textwrap

from tenantlint.api import scan_paths

MODELS = '''\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Agent(Base):
    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, index=True)
'''

ROUTES = '''\
from fastapi import APIRouter, Depends
from flask import Flask, request
from rest_framework.views import APIView

from app.models import Agent

router = APIRouter()
app = Flask(__name__)


@router.get("/agents/{agent_id}")
async def read_agent(agent_id: int, session=Depends(get_session)):
    return await session.get(Agent, agent_id)


@router.post("/agents/move")
async def move_agent(body: MoveAgent, session=Depends(get_session)):
    return await session.get(Agent, body.agent_id)


@router.get("/agents/by-dependency")
async def by_dependency(agent_id: int = Depends(current_agent_id), session=Depends(get_session)):
    return await session.get(Agent, agent_id)


@app.route("/agents/<agent_id>")
def flask_agent(agent_id):
    return db.session.get(Agent, agent_id)


@app.route("/agents")
def flask_agent_arg():
    return db.session.get(Agent, request.args["id"])


class AgentView(APIView):
    def get(self, request, pk):
        return db.session.get(Agent, pk)


def django_view(request, agent_id):
    return db.session.get(Agent, agent_id)


def helper(session, agent_id):
    return session.get(Agent, agent_id)


def test_agent(request, session, agent_id):
    return session.get(Agent, agent_id)
'''


def _messages(tmp_path) -> dict[int, str]:
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n')
    for name, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/routes.py": ROUTES}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    report = scan_paths(["."], config=tmp_path / "tenantlint.toml", cwd=tmp_path)
    return {d.location.line: d.message.rsplit("(", 1)[-1].rstrip(")") for d in report.diagnostics
            if d.path == "app/routes.py" and d.code == "TL201"}


def test_where_the_id_comes_from(tmp_path):
    lines = ROUTES.splitlines()

    def line(text: str) -> int:
        return next(i for i, got in enumerate(lines, 1) if text in got)

    got = _messages(tmp_path)
    request, caller = "by an id from the request", "by an id the caller passes"
    assert got[line("session.get(Agent, agent_id)")] == request  # a FastAPI path parameter (async)
    assert got[line("body.agent_id")] == request  # a field of a FastAPI body model
    assert got[line("request.args")] == request  # Flask's request arguments
    assert got[line("get(Agent, pk)")] == request  # a DRF/Django class view's URL parameter
    flask = line("def flask_agent(agent_id)") + 1
    assert got[flask] == request  # a Flask view argument
    assert got[line("def django_view") + 1] == request  # a Django function view's URL parameter
    assert got[line("def by_dependency") + 1] == caller  # a FastAPI dependency is the framework's
    assert got[line("def helper") + 1] == caller
    assert got[line("def test_agent") + 1] == caller  # pytest's `request` fixture makes no view
