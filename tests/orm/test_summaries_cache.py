"""Function summaries live in the catalog: a one-file run judges calls into other files,
and an edit to a helper changes the verdict at its (unchanged) callers, warm or cold."""
from __future__ import annotations

from pathlib import Path

from tenantlint.api import scan_paths

MODELS = '''from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=10)


class Doc(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    title = models.CharField(max_length=10)
'''
OPTIONAL = '''from app.models import Doc


def find(title, team=None):
    qs = Doc.objects.filter(title=title)
    if team is not None:
        qs = qs.filter(team=team)
    return list(qs)
'''
ALWAYS = '''from app.models import Doc


def find(title, team=None):
    return list(Doc.objects.filter(title=title, team=team))
'''
# The view hands back a count, not the rows: its own summary (a loader when it passes the
# team) stays the same through the edits below.
CALLER = '''from app.services import find


def view(request):
    return len(find(request.GET["q"]))
'''


def _project(root: Path) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "services.py").write_text(OPTIONAL)
    (root / "app" / "views.py").write_text(CALLER)
    (root / "pyproject.toml").write_text('[tool.tenantlint]\ntenant-columns = ["team_id"]\n')
    return root


def _found(report) -> set:
    return {(d.path, d.location.line, d.code) for d in report.diagnostics}


def test_one_file_run_judges_the_call_and_follows_an_edit(tmp_path):
    root = _project(tmp_path)
    expected = {("app/views.py", 5, "TL201")}
    assert _found(scan_paths(["app/views.py"], cwd=root, use_cache=True)) == expected
    assert _found(scan_paths(["app/views.py"], cwd=root, use_cache=True)) == expected  # warm
    assert _found(scan_paths(["app/views.py"], cwd=root)) == expected  # cold, no cache
    (root / "app" / "services.py").write_text(ALWAYS)  # the helper now always scopes
    assert _found(scan_paths(["."], cwd=root, use_cache=True)) == set()


def test_a_helper_nobody_calls_is_judged_in_its_body(tmp_path):
    root = _project(tmp_path)
    (root / "app" / "views.py").write_text("def view(request):\n    return None\n")
    assert _found(scan_paths(["."], cwd=root, use_cache=True)) == {("app/services.py", 5, "TL201")}


def test_an_edited_caller_is_judged_again_without_a_full_rebuild(tmp_path, monkeypatch):
    from tenantlint.orm import summary_builder

    root = _project(tmp_path)
    assert _found(scan_paths(["."], cwd=root, use_cache=True)) == {("app/views.py", 5, "TL201")}
    full = []
    original = summary_builder.Builder.build
    monkeypatch.setattr(summary_builder.Builder, "build", lambda self: full.append(1) or original(self))
    (root / "app" / "views.py").write_text(CALLER.replace('request.GET["q"]', 'request.GET["q"], team=request.team'))
    assert _found(scan_paths(["."], cwd=root, use_cache=True)) == set()
    (root / "app" / "views.py").write_text(CALLER + "\n\ndef other(request):\n    return find('x')\n")
    assert _found(scan_paths(["."], cwd=root, use_cache=True)) == {("app/views.py", 5, "TL201"),
                                                                    ("app/views.py", 9, "TL201")}
    assert not full  # the helper's summary did not change: only the caller was read again
    assert _found(scan_paths(["."], cwd=root)) == {("app/views.py", 5, "TL201"), ("app/views.py", 9, "TL201")}


def test_a_helper_edited_in_one_file_changes_the_verdict_of_a_one_file_run_in_another(tmp_path):
    root = _project(tmp_path)
    assert _found(scan_paths(["."], cwd=root, use_cache=True)) == {("app/views.py", 5, "TL201")}
    (root / "app" / "services.py").write_text(ALWAYS)  # the caller's file is unchanged
    assert _found(scan_paths(["app/views.py"], cwd=root, use_cache=True)) == set()
    (root / "app" / "services.py").write_text(OPTIONAL)  # and back: the call leaks again
    assert _found(scan_paths(["app/views.py"], cwd=root, use_cache=True)) == {("app/views.py", 5, "TL201")}


WRAPPER = '''from app.services import find


def find_for(title, team=None):
    return find(title, team=team)
'''
SECOND_CALLER = '''from app.wrappers import find_for


def search(request):
    return find_for(request.GET["q"])


def scoped(request):
    return find_for(request.GET["q"], team=request.team)
'''


def test_a_run_on_some_files_answers_as_the_full_run(tmp_path):
    root = _project(tmp_path)
    (root / "app" / "wrappers.py").write_text(WRAPPER)  # a helper of the helper (a later round)
    (root / "app" / "search.py").write_text(SECOND_CALLER)
    some = ["app/views.py", "app/search.py"]

    def on(files, found):
        return {f for f in found if f[0] in files}

    full = _found(scan_paths(["."], cwd=root))  # cold, no cache
    assert on(some, full) == {("app/views.py", 5, "TL201"), ("app/search.py", 5, "TL201")}
    assert _found(scan_paths(some, cwd=root, use_cache=True)) == on(some, full)  # cold cache
    assert _found(scan_paths(some, cwd=root, use_cache=True)) == on(some, full)  # warm
    (root / "app" / "search.py").write_text(SECOND_CALLER.replace('request.GET["q"])\n\n\n', 'request.GET["q"], '
                                                                  'team=request.team)\n\n\n', 1))
    (root / "app" / "notes.py").write_text("def unrelated():\n    return 1\n")  # a new file
    full = _found(scan_paths(["."], cwd=root))
    assert on(some, full) == {("app/views.py", 5, "TL201")}
    assert _found(scan_paths(some, cwd=root, use_cache=True)) == on(some, full)
