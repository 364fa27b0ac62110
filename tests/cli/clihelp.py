"""Helpers for the CLI and output tests: the fixture project, a CliRunner run in a folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from click.testing import CliRunner

from tenantlint.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
PROJECT = DATA / "project"
SEED = Path(__file__).resolve().parents[3] / "shared" / "acceptance" / "suites" / "seed"
SEED_MISSING = f"the acceptance seed suite is not at {SEED} (it lives in ../shared beside the repo)"


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
