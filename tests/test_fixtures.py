"""Each fixture project under fixtures/rules/ must produce exactly its annotations."""
from __future__ import annotations

import pytest

from fixture_harness import actual, expectations, projects

_FOUND: dict = {}


def found(root):
    if root not in _FOUND:
        _FOUND[root] = actual(root)
    return _FOUND[root]


@pytest.mark.parametrize("root", projects(), ids=lambda p: p.relative_to(p.parents[1]).as_posix())
def test_fixture_project(root):
    expected, todo = expectations(root)
    result = found(root)
    missing = sorted(expected - result)
    unexpected = sorted(result - expected - todo)
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}"


# One strict xfail per known gap: fixing one makes its own test XPASS (and fail), so the
# annotation must be turned into an `expect:`.
TODOS = [(root, item) for root in projects() for item in sorted(expectations(root)[1])]


@pytest.mark.parametrize("root, item", TODOS, ids=[f"{r.name}:{i[0]}:{i[1]}:{i[2]}" for r, i in TODOS])
@pytest.mark.xfail(strict=True, reason="known gap marked todo-expect")
def test_fixture_todo(root, item):
    assert item in found(root)
