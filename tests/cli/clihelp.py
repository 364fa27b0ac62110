"""Helpers for the CLI and output tests: the fixture project, a CliRunner run in a folder."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner

from tenantlint.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def _standalone(source: Path) -> Path:
    """A copy of an example project as a repository of its own: kept in this repository,
    its project root would be this repository (the root is the repository around the
    config), and its paths would read `tests/data/project/app/...`."""
    home = Path(tempfile.mkdtemp(prefix="tenantlint-project-"))
    atexit.register(shutil.rmtree, home, True)
    dest = home / source.name
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", ".tenantlint_cache"))
    (dest / ".git").mkdir()
    return dest


PROJECT = _standalone(DATA / "project")
SEED = Path(__file__).resolve().parents[3] / "shared" / "acceptance" / "suites" / "seed"
SEED_MISSING = ("needs the maintainers' acceptance suites (../shared/acceptance beside this checkout), "
                "which are not part of the repository")


def run(args, cwd: Path, env: dict | None = None):
    """`tenantlint ARGS` in `cwd` through CliRunner (stdout and stderr kept apart)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".tenantlint_cache"))
    return dest
