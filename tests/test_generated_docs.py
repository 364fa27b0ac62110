"""README's rules table and docs/rules/*.md are generated from the rules
(`python -m tenantlint.docs`): a rule's summary, severity or docstring edited without
regenerating them fails here."""
from __future__ import annotations

import pytest

from tenantlint import docs
from tenantlint.rules import RULES


def test_readme_rules_table_and_rule_pages_are_current():
    stale = [str(path.relative_to(docs.ROOT)) for path in docs.stale_files()]
    assert not stale, f"stale generated docs {stale}: run `python -m tenantlint.docs`"


def test_table_has_one_row_per_rule_from_its_own_metadata():
    rows = docs.rules_table().splitlines()[2:]
    assert rows == [f"| {r.code} | {r.name} | {r.severity.value} | {r.summary} |" for r in RULES]


def test_table_replaced_only_between_the_markers():
    readme = f"intro\n{docs.TABLE_START}\nold\n{docs.TABLE_END}\noutro\n"
    assert docs.with_table(readme, "new") == f"intro\n{docs.TABLE_START}\nnew\n{docs.TABLE_END}\noutro\n"
    with pytest.raises(ValueError):
        docs.with_table("no markers here", "new")
