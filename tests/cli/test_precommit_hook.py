"""The shipped `.pre-commit-hooks.yaml`, run by the real pre-commit (`try-repo` on this
repository) against a throwaway git repo. pre-commit passes only some files; each one's
findings must equal what a full scan reports for it, and an excluded file passed by
name is skipped (`--force-exclude`).

`try-repo` runs on a snapshot of this working tree (tracked and untracked files, not
ignored ones) committed in a temp repo, so it tests the code the rest of the suite tests;
pre-commit clones it, builds a venv and pip-installs the package into it: about 15 seconds, and it needs the
package index for sqlglot/click/pathspec. Deselect with `-m "not precommit"`."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clihelp import PROJECT, copy_tree, run

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
FINDING = re.compile(r"^(?P<path>[\w./-]+):(?P<line>\d+):\d+: (?P<code>TL\d+) ", re.M)


def test_manifest_matches_the_spec():
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "tenantlint"
    assert hook["entry"] == "tenantlint scan --force-exclude"
    assert hook["language"] == "python"
    assert hook["require_serial"] is True
    assert hook["types_or"] == ["python", "pyi", "sql"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, check=True, capture_output=True)


def snapshot(dest: Path) -> Path:
    """This working tree's files (tracked or untracked, never ignored), committed in a new repo."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not name.startswith(("tests/", "fixtures/", ".ci/")):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "snapshot")
    return dest


@pytest.mark.precommit
@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (pip install -e '.[test]')")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_try_repo_on_a_subset_of_files(tmp_path: Path):
    target = copy_tree(PROJECT, tmp_path / "target")
    config = target / "tenantlint.toml"
    config.write_text(config.read_text() + 'extend-exclude = ["app/legacy.py"]\n')
    (target / "app" / "legacy.py").write_text('def f(cur):\n    cur.execute("SELECT * FROM orders")\n')
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "init")

    full = json.loads(run(["scan", "--format", "json"], target).stdout)["diagnostics"]
    named = ["app/reports.py", "app/legacy.py", "schema.sql"]
    expected = {(d["path"], d["line"], d["code"]) for d in full if d["path"] in named}
    assert expected  # reports.py has findings; legacy.py is excluded; schema.sql is clean

    hook_repo = snapshot(tmp_path / "hook-repo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), NO_COLOR="1",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    proc = subprocess.run([PRE_COMMIT, "try-repo", str(hook_repo), "tenantlint", "--files", *named],
                          cwd=target, capture_output=True, text=True, env=env, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out  # findings fail the hook
    assert "tenantlint" in out and "Failed" in out
    got = {(m["path"], int(m["line"]), m["code"]) for m in FINDING.finditer(out)}
    assert got == expected, out
    assert "in 2 files" in out  # legacy.py was named but excluded by force-exclude
