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
