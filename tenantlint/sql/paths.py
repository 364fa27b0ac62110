"""Which additions to a string built in pieces run on which paths of a function
(`Build`: a name bound to SQL text and extended later in the same scope).

Where an addition runs is its *chain* (the flow engine's, `tenantlint.flow.branches`);
an addition's chain *relative* to the build's is None when it runs on every path the
build is on.

`judged_paths` turns the relative chains of the conditional additions into the sets of
additions to judge: the *full* paths (every optional addition runs; exclusive branches
are alternatives) and the *base* paths (no optional addition runs). An `if`/`else`,
an `elif` chain ending in `else`, a `try` whose body and every handler add, or a
`match` with an irrefutable case, is not optional when every branch adds: the base
paths then take each branch in turn. A branch that ends in `raise` (or a `return`)
without reading the name never reaches a later use of it. Loops may run zero times.
No sqlglot here: this module only reads stdlib `ast` nodes.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tenantlint.flow.branches import exclusive, relative
from tenantlint.flow.walk import LOOPS, MAX_VALUES, TRIES

if TYPE_CHECKING:
    from tenantlint.sql.recover import Recovered

class TooMany(Exception):
    pass


class _Group:
    def __init__(self, block: ast.AST) -> None:
        self.block = block
        self.branches: dict[str, list] = {}


def _tree(entries: list[tuple[int, tuple]]) -> list:
    seq: list = []
    for index, rel in entries:
        if not rel:
            seq.append(index)
            continue
        (block, branch), rest = rel[0], rel[1:]
        if not (seq and isinstance(seq[-1], _Group) and seq[-1].block is block):
            seq.append(_Group(block))
        seq[-1].branches.setdefault(branch, []).append((index, rest))
    for item in seq:
        if isinstance(item, _Group):
            item.branches = {b: _tree(e) for b, e in item.branches.items()}
    return seq


def judged_paths(rels: list[tuple], name: str) -> tuple[list[frozenset], list[frozenset]] | None:
    """(full paths, base paths) as sets of indices into `rels` (the relative chains of
    the conditional additions, in order), or None when there are too many."""
    seq = _tree(list(enumerate(rels)))
    try:
        return _paths(seq, True, name), _paths(seq, False, name)
    except TooMany:
        return None


def _paths(seq: list, full: bool, name: str) -> list[frozenset]:
    out = [frozenset()]
    for item in seq:
        alts = [frozenset({item})] if isinstance(item, int) else _alternatives(item, full, name)
        out = list(dict.fromkeys(a | b for a in out for b in alts))
        if len(out) > MAX_VALUES:
            raise TooMany
    return out


def _union(lists) -> list[frozenset]:
    return list(dict.fromkeys(p for paths in lists for p in paths))


def _alternatives(group: _Group, full: bool, name: str) -> list[frozenset]:
    block = group.block
    if isinstance(block, LOOPS):
        if not full:
            return [frozenset()]
        body = _paths(group.branches.get("body", []), True, name)
        after = _paths(group.branches.get("orelse", []), True, name)
        return list(dict.fromkeys(a | b for a in body for b in after))
    live = [b for b in _branches(block) if not _dead(_statements(block, b), name)]
    if full:
        adding = [b for b in live if b in group.branches]
        return _union(_paths(group.branches[b], True, name) for b in adding) if adding else [frozenset()]
    if _covered(group, name, live):
        return _union(_paths(group.branches[b], False, name) for b in live)
    return [frozenset()]


def _covered(group: _Group, name: str, live: list[str] | None = None) -> bool:
    """Every path through the construct adds something."""
    block = group.block
    if isinstance(block, LOOPS):
        return False
    if live is None:
        live = [b for b in _branches(block) if not _dead(_statements(block, b), name)]
    return bool(live) and all(b in group.branches and _seq_covered(group.branches[b], name) for b in live)


def _seq_covered(seq: list, name: str) -> bool:
    return any(isinstance(item, int) or _covered(item, name) for item in seq)


def _branches(block: ast.AST) -> list[str]:
    if isinstance(block, ast.If):
        return ["body", "orelse"]
    if isinstance(block, TRIES):
        return ["body"] + [f"h{k}" for k in range(len(block.handlers))]
    if isinstance(block, ast.Match):
        cases = [f"c{k}" for k in range(len(block.cases))]
        return cases if any(_irrefutable(c) for c in block.cases) else cases + ["none"]
    return ["body"]


def _irrefutable(case: ast.match_case) -> bool:
    pattern = case.pattern
    while isinstance(pattern, ast.MatchAs) and pattern.pattern is not None:
        pattern = pattern.pattern
    return case.guard is None and isinstance(pattern, ast.MatchAs)


def _statements(block: ast.AST, branch: str) -> list[ast.stmt]:
    if isinstance(block, ast.If):
        return block.body if branch == "body" else block.orelse
    if isinstance(block, TRIES):
        return block.body + block.orelse if branch == "body" else block.handlers[int(branch[1:])].body
    if isinstance(block, ast.Match) and branch.startswith("c"):
        return block.cases[int(branch[1:])].body
    return []


def _dead(statements: list[ast.stmt], name: str) -> bool:
    """The branch ends in `raise` or `return` and never reads `name` (but to build it):
    no later use of the name follows it."""
    if not statements or not isinstance(statements[-1], (ast.Raise, ast.Return)):
        return False
    building: set[int] = set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
                    building.update(id(n) for n in ast.walk(node.value))
    return not any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
                   and id(node) not in building for stmt in statements for node in ast.walk(stmt))


@dataclass
class Build:
    """A name bound to SQL text, possibly extended later in the same scope (by the SQL
    checker, `tenantlint/rules/sql_checker.py`)."""

    name: str
    value: Recovered  # every addition applied, in order (the text reported and fingerprinted)
    first: ast.expr
    last: ast.expr
    in_provider: bool
    chain: tuple = ()  # where it was created (tenantlint.sql.paths)
    # The value on the path where no conditional addition ran: a tenant predicate that
    # is only appended under `if`/`for` leaves that path unscoped (the fail-open leak).
    base: Recovered | None = None
    # The conditional additions (their chains relative to `chain`), and the value for
    # each set of them that can run together (None: too many to follow).
    conditional: list = field(default_factory=list)
    states: dict | None = None
    folded_uses: int = 0
    bare_uses: int = 0
    bare_unscoped_uses: int = 0

    def extend(self, full: Recovered, apply, node: ast.expr, chain: tuple) -> None:
        """Grow the value. `apply(value)` gives a path's value after this addition."""
        rel = relative(chain, self.chain)
        if rel is None:  # runs on every path the build is on
            if self.base is not None:
                self.base = apply(self.base)
            if self.states is not None:
                self.states = {key: apply(value) for key, value in self.states.items()}
        else:
            if self.base is None:
                self.base = self.value
                self.states = {frozenset(): self.value}
            index = len(self.conditional)
            self.conditional.append(rel)
            if self.states is not None:
                grown = dict(self.states)
                for key, value in self.states.items():
                    if not any(exclusive(self.conditional[j], rel) for j in key):
                        grown[key | {index}] = apply(value)
                self.states = grown if len(grown) <= MAX_VALUES else None
        self.value = full
        self.last = node

    def paths(self) -> tuple[list[Recovered], list[Recovered]]:
        """(the values to judge, the base-path values to judge for scope)."""
        if self.base is None:
            return [self.value], []
        found = judged_paths(self.conditional, self.name) if self.states is not None else None
        if found is None or any(key not in self.states for keys in found for key in keys):
            return [self.value], [self.base]
        full, base = found
        return [self.states[key] for key in full], [self.states[key] for key in base]
