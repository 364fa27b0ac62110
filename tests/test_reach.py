"""`reach`: whether a finding's code runs on a request, in a task, or nobody knows."""
from __future__ import annotations

import ast
import json

from click.testing import CliRunner

from tenantlint.cli import main
from tenantlint.reach import Reach

SOURCE = '''\
from flask import Flask
from celery import shared_task
from django.core.management.base import BaseCommand
from rest_framework.viewsets import ModelViewSet

app = Flask(__name__)


def load(x):
    return x


@app.route("/a")
def route():
    return load(1)


@shared_task
def nightly():
    return helper()


def helper():
    return 2


class Command(BaseCommand):
    def handle(self, *args, **options):
        return 3


class Things(ModelViewSet):
    def list(self, request):
        return 4


def view(request, pk):
    return 5


def orphan():
    return 6


class Agent(Base, OrganizationMixin):
    def latest(self, session):
        return 7


@patch("app.flags.flag_set")
def patched(flag):
    return 8


@router.patch("/items/{item_id}")
def patch_route(item_id):
    return 9


def test_view(request, client):
    return 10


@app.route("/test-connection")
def test_connection():
    return 12


@get("/items/{item_id:int}")
async def litestar_route(item_id: int):
    return 11
'''


def _reach(name: str) -> str:
    tree = ast.parse(SOURCE)
    reach = Reach(tree)
    line = next(n.lineno for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and n.name == name)
    return reach.at(line + 1)


def test_entry_points_and_what_they_call():
    assert _reach("route") == "request"
    assert _reach("load") == "request"  # called by a route in the module
    assert _reach("nightly") == "task"
    assert _reach("helper") == "task"
    assert _reach("handle") == "task"  # a management command
    assert _reach("list") == "request"  # a DRF viewset
    assert _reach("view") == "request"  # a Django function view
    assert _reach("orphan") == "unknown"
    assert _reach("latest") == "unknown"  # a model's mixin is no view
    assert _reach("patched") == "unknown"  # unittest.mock's patch is no HTTP PATCH
    assert _reach("patch_route") == "request"
    assert _reach("test_view") == "unknown"  # pytest's `request` fixture makes no view
    assert _reach("litestar_route") == "request"  # a bare verb with a path
    assert _reach("test_connection") == "request"  # a route whose name starts with "test"


APP = '''\
from flask import Flask, request
from celery import shared_task
from app.models import Note

app = Flask(__name__)


@shared_task
def purge(session, note_id):
    return session.get(Note, note_id)


@app.route("/notes/<note_id>")
def show(session):
    return session.get(Note, request.args["id"])
'''

MODELS = '''\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, index=True)
'''


def test_json_text_and_filter(tmp_path, monkeypatch):
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(MODELS)
    (tmp_path / "app" / "views.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = json.loads(runner.invoke(main, ["scan", ".", "--format", "json", "--no-cache"]).output)
    reach = {(d["line"], d["reach"]) for d in out["diagnostics"] if d["code"] == "TL201"}
    assert reach == {(10, "task"), (15, "request")}
    text = runner.invoke(main, ["scan", ".", "--no-cache", "-q"]).output.splitlines()
    assert text[0].startswith("app/views.py:15:")  # request-reachable first
    only = json.loads(runner.invoke(main, ["scan", ".", "--format", "json", "--no-cache", "--reach", "request"]).output)
    assert {(d["line"], d["reach"]) for d in only["diagnostics"]} == {(15, "request")}
    sarif = json.loads(runner.invoke(main, ["scan", ".", "--format", "sarif", "--no-cache"]).output)
    assert {r["properties"]["reach"] for r in sarif["runs"][0]["results"]} == {"task", "request"}


ROUTES = '''\
from fastapi import APIRouter

from app.services import NoteService, shared

router = APIRouter()


@router.get("/notes/{note_id}")
async def read_note(note_id: int):
    return await NoteService().load(note_id)


@router.post("/notes/shared/{note_id}")
def post_shared(note_id: int):
    return shared(note_id)
'''

TASKS = '''\
from celery import shared_task

from app import services


@shared_task
def nightly(note_id):
    return services.purge(note_id)


@shared_task
def nightly_shared(note_id):
    return services.shared(note_id)
'''

SERVICES = '''\
from app.models import Note
from app.db import session


class NoteService:
    async def load(self, note_id):
        return await self._get(note_id)

    async def _get(self, note_id):
        return session.get(Note, note_id)


def purge(note_id):
    return session.get(Note, note_id)


def shared(note_id):
    return session.get(Note, note_id)


def orphan(note_id):
    return session.get(Note, note_id)
'''


def _scan_project(tmp_path, monkeypatch, files: dict) -> dict:
    """`scan --format json` of a project made of `files` (relative path -> text)."""
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n')
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return json.loads(CliRunner().invoke(main, ["scan", ".", "--format", "json", "--no-cache"]).output)


def test_reach_follows_calls_across_modules(tmp_path, monkeypatch):
    out = _scan_project(tmp_path, monkeypatch, {
        "app/__init__.py": "", "app/models.py": MODELS, "app/routes.py": ROUTES, "app/tasks.py": TASKS,
        "app/services.py": SERVICES, "app/db.py": "session = None\n"})
    lines = SERVICES.splitlines()
    reach = {lines[d["line"] - 1].strip(): d["reach"] for d in out["diagnostics"] if d["path"] == "app/services.py"}
    by_function = {}
    for number, text in enumerate(lines, 1):
        if text.strip().startswith(("def ", "async def ")):
            current = text.split("def ", 1)[1].split("(")[0]
        elif "session.get" in text:
            by_function[current] = next(d["reach"] for d in out["diagnostics"]
                                        if d["path"] == "app/services.py" and d["line"] == number)
    assert reach  # the lookups are findings
    assert by_function == {"_get": "request",  # a route -> a method of another module -> its own method
                           "purge": "task",  # a Celery task in another module
                           "shared": "request",  # called by a route and a task: request outranks task
                           "orphan": "unknown"}


SERVER = '''\
from app.services import NoteService


class Server:
    def __init__(self):
        self.notes = NoteService()
'''

DEPENDENT_ROUTES = '''\
from fastapi import APIRouter, Depends

from app.server import Server

router = APIRouter()


def get_server() -> Server:
    return Server()


@router.get("/notes/{note_id}")
async def read_note(note_id: int, server: "Server" = Depends(get_server)):
    return await server.notes.load(note_id)
'''

SERVICE_ONLY = '''\
from app.models import Note
from app.db import session


class NoteService:
    async def load(self, note_id):
        return session.get(Note, note_id)

    async def unused(self, note_id):
        return session.get(Note, note_id)
'''


def test_reach_through_an_injected_parameter_and_its_attributes(tmp_path, monkeypatch):
    """`server: Server = Depends(...)` then `server.notes.load(...)`: the route reaches
    the method through the parameter's annotation and the attribute `Server.__init__`
    sets, across three modules."""
    out = _scan_project(tmp_path, monkeypatch, {
        "app/__init__.py": "", "app/models.py": MODELS, "app/routes.py": DEPENDENT_ROUTES, "app/server.py": SERVER,
        "app/services.py": SERVICE_ONLY, "app/db.py": "session = None\n"})
    reach = {d["line"]: d["reach"] for d in out["diagnostics"] if d["path"] == "app/services.py"}
    assert reach == {7: "request", 10: "unknown"}


DJANGO_MODELS = '''\
from django.db import models


class Storage(models.Model):
    tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)
'''

VIEW_BASES = '''\
from rest_framework import generics


class StorageDetailAPI(generics.RetrieveAPIView):
    lookup_field = "pk"
'''

VIEWS = '''\
from app.bases import StorageDetailAPI
from app.models import Storage


class S3StorageDetailAPI(StorageDetailAPI):
    queryset = Storage.objects.all()

    def refresh(self):
        return Storage.objects.get(pk=self.kwargs["pk"])


class Plain:
    queryset = Storage.objects.all()
'''


def test_a_view_class_body_and_a_view_derived_from_a_project_base(tmp_path, monkeypatch):
    """A class-level queryset serves the view's requests; a class whose project base (in
    another module) is a view is a view too, with its methods."""
    out = _scan_project(tmp_path, monkeypatch, {
        "app/__init__.py": "", "app/models.py": DJANGO_MODELS, "app/bases.py": VIEW_BASES, "app/views.py": VIEWS})
    reach = {d["line"]: d["reach"] for d in out["diagnostics"] if d["path"] == "app/views.py"}
    assert reach == {6: "request", 9: "request", 13: "unknown"}


def test_a_view_derived_from_a_same_named_base_imported_under_another_name_from_below_the_root(
        tmp_path, monkeypatch):
    """`from bases import StorageDetailAPI as BaseDetail`, the project scanned from above
    its import root (`app/bases.py` is imported as `bases`), and another class of the same
    name elsewhere: the base is still the view of app/bases.py."""
    views = VIEWS.replace("from app.bases import StorageDetailAPI", "from bases import StorageDetailAPI as BaseDetail") \
        .replace("from app.models", "from models").replace("(StorageDetailAPI)", "(BaseDetail)") \
        .replace("class S3StorageDetailAPI", "class StorageDetailAPI")
    out = _scan_project(tmp_path, monkeypatch, {
        "app/__init__.py": "", "app/models.py": DJANGO_MODELS, "app/bases.py": VIEW_BASES, "app/views.py": views,
        "app/other.py": "class StorageDetailAPI:\n    pass\n"})
    reach = {d["line"]: d["reach"] for d in out["diagnostics"] if d["path"] == "app/views.py"}
    assert reach == {6: "request", 9: "request", 13: "unknown"}
