"""The README's promises: the demo output it shows is what the tool prints."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from tenantlint.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_demo_output_in_readme_is_current(monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n\$ (tenantlint scan [^\n]*)\n(.*?)```", readme, re.S)
    assert block, "the README shows a demo scan"
    command, shown = block.group(1), block.group(2)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, command.split()[1:] + ["--no-cache"])
    assert result.exit_code == 1
    assert result.output == shown
