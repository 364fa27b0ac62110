"""The summary pass split with a forked twin (`jobs` > 1): the same index as alone, and
a twin that dies or overruns costs time, never summaries."""
from __future__ import annotations

import os

import pytest

from tenantlint.config import load_settings
from tenantlint.discover import build_catalog
from tenantlint.orm import summary_builder
from tenantlint.pool import Twin

from tests.project_scan import write_project

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the twin is a forked copy")

FILES = {
    "app/__init__.py": "",
    "app/models.py": """
        from django.db import models


        class Team(models.Model):
            name = models.CharField(max_length=10)


        class Doc(models.Model):
            team = models.ForeignKey(Team, on_delete=models.CASCADE)
            title = models.CharField(max_length=10)
        """,
    # tenant-optional helper, builder, and a helper of a helper in another file (a second round)
    "app/services.py": """
        from app.models import Doc


        def find(title, team=None):
            qs = Doc.objects.filter(title=title)
            if team is not None:
                qs = qs.filter(team=team)
            return list(qs)


        def docs():
            return Doc.objects.all()


        def ping(n):
            return pong(n - 1) if n else Doc.objects.filter(title="x")


        def pong(n):
            return ping(n)
        """,
    "app/wrappers.py": """
        from app.services import find


        def find_titled(title, team=None):
            return find(title, team=team)
        """,
    "app/views.py": """
        from app.services import docs, find
        from app.wrappers import find_titled


        def view(request):
            return find(request.GET["q"])


        def listing(request):
            return list(docs())


        def titled(request, team):
            return find_titled(request.GET["q"]), find_titled("a", team)
        """,
}


def _index(root, jobs):
    return build_catalog(load_settings(cwd=root), jobs=jobs).functions


def _same(one, two) -> None:
    assert dict(one.functions) == dict(two.functions)
    assert (one.called, one.words, one.defined) == (two.called, two.words, two.defined)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(summary_builder, "_SPLIT_MIN", 1)  # split even this small project
    return write_project(tmp_path, FILES, '[tool.tenantlint]\ntenant-columns = ["team_id"]\n')


def test_the_twin_shares_the_work_and_the_index_is_the_same_as_alone(project, monkeypatch):
    traded = []
    exchange = Twin.exchange

    def watched(self, mine, timeout):
        theirs = exchange(self, mine, timeout)
        traded.append(theirs)
        return theirs

    monkeypatch.setattr(Twin, "exchange", watched)
    alone = _index(project, jobs=1)
    assert not traded
    split = _index(project, jobs=2)
    assert traded and all(isinstance(t, dict) for t in traded)
    assert any(t for t in traded)  # the twin summarized functions of its own files
    assert {"app.services.find", "app.services.docs", "app.wrappers.find_titled"} <= set(alone.functions)
    _same(alone, split)


def test_a_twin_that_dies_leaves_its_share_to_this_process(project, monkeypatch):
    start = Twin.start
    monkeypatch.setattr(Twin, "start", classmethod(lambda cls, body: start(lambda twin: os._exit(3))))
    _same(_index(project, jobs=1), _index(project, jobs=2))


def test_a_twin_that_overruns_is_given_up(project, monkeypatch):
    start = Twin.start
    monkeypatch.setattr(Twin, "start", classmethod(lambda cls, body: start(lambda twin: __import__("time").sleep(30))))
    monkeypatch.setattr(summary_builder, "_TWIN_WAIT", 0.2)
    _same(_index(project, jobs=1), _index(project, jobs=2))


def test_twin_trades_in_lockstep():
    def body(twin):
        assert twin.exchange({"copy": 1}, timeout=5) == {"here": 1}
        assert twin.exchange(["second"], timeout=5) == ["reply"]

    twin = Twin.start(body)
    assert twin is not None and twin.side == 0
    assert twin.exchange({"here": 1}, timeout=5) == {"copy": 1}
    assert twin.exchange(["reply"], timeout=5) == ["second"]
    assert twin.exchange("more", timeout=5) is None  # the copy has finished: gone
    assert not twin.alive
    twin.close()
