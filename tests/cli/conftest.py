from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clihelp import PROJECT, copy_tree  # noqa: E402


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of tests/data/project."""
    return copy_tree(PROJECT, tmp_path / "project")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "precommit: runs the real pre-commit (creates a venv and pip-installs this repo; ~15 s, "
                   "needs the package index)")
