"""TL601 across modules: a helper of another module that returns request input, and
the cache following an edit of that helper."""
from __future__ import annotations

from project_scan import write_project
from tenantlint.api import scan_paths

MODELS = '''
from django.db import models


class Ticket(models.Model):
    workspace = models.ForeignKey("Workspace", on_delete=models.CASCADE)
'''

VIEWS = '''
from desk import params
from desk.models import Ticket


def tickets(request):
    return list(Ticket.objects.filter(workspace_id=params.workspace(request)))
'''


def _project(tmp_path, helper_body: str):
    write_project(tmp_path, {"desk/__init__.py": "", "desk/models.py": MODELS, "desk/views.py": VIEWS,
                             "desk/params.py": f"def workspace(request):\n    return {helper_body}\n"},
                  'tenant-columns = ["workspace_id"]\n', dedent=False)


def _tl601(tmp_path) -> list[tuple[str, int]]:
    report = scan_paths(["desk/views.py"], cwd=tmp_path, use_cache=True)
    return [(d.path, d.location.line) for d in report.diagnostics if d.code == "TL601"]


def test_helper_of_another_module_returning_request_input(tmp_path):
    _project(tmp_path, 'request.headers["X-Workspace"]')
    assert _tl601(tmp_path) == [("desk/views.py", 7)]


def test_editing_the_helper_changes_the_answer_through_the_cache(tmp_path):
    _project(tmp_path, 'request.headers["X-Workspace"]')
    assert _tl601(tmp_path)
    _project(tmp_path, "request.workspace.id")
    assert _tl601(tmp_path) == []
