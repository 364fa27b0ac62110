"""A view's class-level queryset judged through the get_queryset() of a project base in
another module (tenantlint.orm.inherited, tenantlint.discover.view_querysets); the fixture
project fixtures/rules/views_inherited holds the findings, this the mechanism's edges."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tenantlint.discover.view_querysets import QuerysetMethodFact, inherited_querysets
from tenantlint.orm.inherited import parsed

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "views_inherited"


def test_lineage_nearest_first_and_bases_outside_the_project_give_nothing():
    facts = [QuerysetMethodFact("a.py", "a.Scoped", 3, "def get_queryset(self):\n    return 1\n"),
             QuerysetMethodFact("b.py", "b.Child", 9, "def get_queryset(self):\n    return 2\n")]
    classes = {"a.Scoped": ("rest_framework.viewsets.ModelViewSet",), "b.Child": ("a.Scoped",),
               "c.View": ("b.Child",), "d.Plain": ("rest_framework.viewsets.ModelViewSet",)}
    chains = inherited_querysets(facts, classes)
    assert [c[0] for c in chains["c.View"]] == ["b.Child", "a.Scoped"]
    assert chains["c.View"][0][1:3] == ("b.py", 9)
    assert "d.Plain" not in chains


def test_a_method_keeps_its_line_numbers_and_unreadable_text_is_none():
    fn = parsed("@decorated\ndef get_queryset(self):\n    return self.queryset\n", 40)
    assert (fn.lineno, fn.body[0].lineno) == (41, 42)
    assert parsed("def get_queryset(self):\n  return (\n") is None


def test_why_names_the_base_that_scoped_it(tmp_path: Path):
    project = shutil.copytree(FIXTURE, tmp_path / "project")
    (project / ".git").mkdir()
    out = subprocess.run([sys.executable, "-m", "tenantlint", "why", "tracker/views.py:12", "--no-cache"],
                         cwd=project, capture_output=True, text=True).stdout
    assert "scoped: a tenant lookup in `.filter(organization=self.request.user.active_organization)` " \
           "(core/viewsets.py:7)" in out
