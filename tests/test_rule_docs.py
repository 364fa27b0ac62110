"""Every rule is registered, documented in ruff's shape, has runnable examples (the
Example fires, the Use instead is clean) and is exercised by a fixture."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixture_harness import FIXTURES, MARK
from project_scan import scan_project
from tenantlint.rules import BY_CODE, CHECKERS, RULES

SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")
BASE_CONFIG = {"tenant-columns": ["tenant_id"], "tenant-tables": ["orders"]}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"'


def run_example(tmp_path: Path, rule, section: str) -> set[str]:
    docs = rule.docs()
    match = re.search(rf"^{re.escape(section)}\s*\n.*?```(\w*)\n(.*?)```", docs, re.S | re.M)
    assert match, f"{rule.code}: no code block under {section}"
    suffix = ".sql" if match.group(1) == "sql" else ".py"
    config = {**BASE_CONFIG, **rule.example_config}
    report = scan_project(tmp_path, {f"example{suffix}": match.group(2)},
                          "".join(f"{k} = {toml_value(v)}\n" for k, v in config.items()), dedent=False)
    return {d.code for d in report.diagnostics}


def test_codes_are_unique_and_well_formed():
    assert len(BY_CODE) == len(RULES)
    for rule in RULES:
        assert re.fullmatch(r"TL\d{3}", rule.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
        assert rule.summary and not rule.summary.endswith(".")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule):
    docs = rule.docs()
    positions = [docs.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), f"{rule.code} docs lack a section"
    assert positions == sorted(positions)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_example_fires_and_fix_is_clean(rule, tmp_path):
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    assert rule.code in run_example(bad, rule, "## Example")
    assert rule.code not in run_example(good, rule, "## Use instead")


def test_every_code_is_emitted_by_a_checker_or_the_engine():
    emitted = {code for checker in CHECKERS for code in checker.codes}
    engine_level = {"TL001", "TL003", "TL501", "TL502", "TL503", "TL504"}
    assert set(BY_CODE) <= emitted | engine_level


def test_every_rule_has_a_fixture():
    expected = set()
    for path in (FIXTURES / "rules").rglob("*"):
        if path.suffix in (".py", ".sql"):
            for match in MARK.finditer(path.read_text(encoding="utf-8")):
                if not match.group("todo"):
                    expected.update(c.strip() for c in match.group("codes").split(","))
    missing = {rule.code for rule in RULES} - expected - {"TL003"}
    assert not missing, f"rules without an annotated fixture: {sorted(missing)}"
