"""`--changed-since REV`: only files changed since the merge base (plus untracked ones),
judged with the catalog of the whole project."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from clihelp import run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c",
                           "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(project: Path) -> Path:
    git(project, "init", "-q", "-b", "main")
    (project / ".gitignore").write_text("ignored/\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    git(project, "checkout", "-qb", "feature")
    return project


def paths(result) -> set[str]:
    return {d["path"] for d in json.loads(result.stdout)["diagnostics"]}


def test_only_changed_and_untracked_files(repo: Path):
    assert run(["scan", "--changed-since", "main", "--show-files"], repo).stdout == ""
    reports = repo / "app" / "reports.py"
    reports.write_text(reports.read_text() + "\n")
    git(repo, "commit", "-qam", "touch reports")
    (repo / "app" / "new.py").write_text('def f(cur):\n    cur.execute("SELECT * FROM line_items")\n')
    (repo / "ignored").mkdir()
    (repo / "ignored" / "x.py").write_text('def f(cur):\n    cur.execute("SELECT * FROM orders")\n')
    (repo / "notes.txt").write_text("not source")
    shown = run(["scan", "--changed-since", "main", "--show-files"], repo)
    assert shown.stdout.splitlines() == ["app/new.py", "app/reports.py"]
    result = run(["scan", "--changed-since", "main", "--format", "json"], repo)
    # line_items is a tenant table only because schema.sql (unchanged, unscanned) says so.
    assert paths(result) == {"app/new.py", "app/reports.py"}
    assert json.loads(result.stdout)["summary"]["files_scanned"] == 2


def test_uncommitted_edits_count_and_paths_narrow(repo: Path):
    orders = repo / "app" / "orders.py"
    orders.write_text(orders.read_text() + "\n")
    (repo / "extra.sql").write_text("SELECT * FROM orders;\n")
    assert run(["scan", "--changed-since", "HEAD", "--show-files"], repo).stdout.splitlines() == [
        "app/orders.py", "extra.sql"]
    assert run(["scan", "--changed-since", "HEAD", "--show-files", "app"], repo).stdout.splitlines() == [
        "app/orders.py"]


def test_excludes_still_apply(repo: Path):
    (repo / "tenantlint.toml").write_text((repo / "tenantlint.toml").read_text() + 'extend-exclude = ["app/gen_*"]\n')
    (repo / "app" / "gen_x.py").write_text("x = 1\n")
    assert "app/gen_x.py" not in run(["scan", "--changed-since", "HEAD", "--show-files"], repo).stdout


def test_unknown_revision_is_exit_2(repo: Path):
    result = run(["scan", "--changed-since", "no-such-branch"], repo)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("tenantlint: error: --changed-since: unknown revision `no-such-branch` "
                                     "(try `git fetch` or a full clone)")


def test_not_a_git_repository_is_exit_2(project: Path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    result = run(["scan", "--changed-since", "main"], project)
    assert result.exit_code == 2
    assert "--changed-since needs a git repository" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
