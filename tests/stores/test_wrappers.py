"""The project's own wrappers of store clients: resolution across files, forwarding
methods, and the same answer for a one-file run as for the whole project."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tenantlint.api import scan_paths
from tenantlint.stores.wrappers import WrapperFact, forwarded_param, index_wrappers

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "stores_wrappers"


def found(root, *paths) -> set[tuple[str, int, str]]:
    report = scan_paths(list(paths) or ["."], cwd=root, use_cache=False)
    return {(d.path, d.location.line, d.code) for d in report.diagnostics}


def test_one_file_run_gives_the_whole_project_answer(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    whole = {f for f in found(root) if f[0] == "app/services/reports.py"}
    assert whole and found(root, "app/services/reports.py") == whole


def test_subclass_inherits_kind_and_forwarding_methods():
    facts = [
        WrapperFact("a.py", "app.a", (("Base", "redis", ("redis.Redis",), (("fetch", "cache", 0, "key"),)),)),
        WrapperFact("b.py", "app.b", (("Child", "", ("app.a.Base",), ()),
                                      ("Plain", "", ("pydantic.BaseModel",), ()))),
    ]
    wrappers = index_wrappers(facts)
    assert wrappers["app.b.Child"].kind == "redis"
    assert wrappers["app.b.Child"].methods == {"fetch": ("cache", 0, "key")}
    assert "app.b.Plain" not in wrappers


def _method(source: str) -> ast.FunctionDef:
    return ast.parse(source).body[0]


@pytest.mark.parametrize("key, expected", [
    ("filename", "filename"),
    ("os.path.join(self.prefix, filename)", "filename"),
    ('f"{self.prefix}/{filename}"', "filename"),
    ("PREFIX + filename", "filename"),
    ('f"user:{session_id}"', None),  # a key built from an id: judged here
    ("filename + other_key", None),  # two parameters decide it
    ('"fixed"', None),
    ("unknown_local", None),
])
def test_forwarded_param(key, expected):
    method = _method("def save(self, filename, session_id, other_key): pass")
    node = ast.parse(key, mode="eval").body
    assert forwarded_param(node, method, lambda name: None) == expected


def test_a_key_rebound_to_itself_under_a_condition_ends(tmp_path):
    (tmp_path / "tenantlint.toml").write_text("")
    (tmp_path / "app.py").write_text(
        "import redis\nr = redis.Redis()\n\ndef f(path, flag):\n"
        "    path = path if flag else path.strip()\n    path = path if flag else path.strip()\n"
        "    return r.get(path)\n")
    assert found(tmp_path) == {("app.py", 7, "TL401")}
