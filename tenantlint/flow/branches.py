"""Where code sits among the conditional constructs around it, for the families that
read a file in its one batched visit, position by position (SQL builds, store bindings),
rather than walking a body path by path (`walk.py`).

A *chain* places code inside the conditional constructs around it: a tuple of
(construct node, branch) pairs, outermost first. The branch is "body" or "orelse" for
`if` and loops, "h<k>" for the k-th `except` handler of a `try` (its `else` runs on
the body's path, its `finally` on every path, and a `try` without handlers adds no
condition: an exception leaves the function), "c<k>" for the k-th `case` of a match.
An `if` test, a loop's iterable and a match subject run whenever the construct is
reached: they add no condition. A visitor keeps the constructs it is inside (`If`,
loops, `Try`, `Match`) on a stack; `chain_of(stack, node)` is the chain of `node`.

Two chains compare by prefix: `relative(chain, base)` is None when code at `chain` runs
on every path that code at `base` is on; `exclusive(a, b)` when they are in different
branches of one `if`/`try`/`match` (the branches of a loop are not exclusive: its `else`
runs after its body)."""
from __future__ import annotations

import ast

from tenantlint.flow.walk import LOOPS, TRIES


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def branch_of(block: ast.AST, pos: tuple[int, int]) -> str | None:
    """The branch of `block` that holds the code at `pos`, or None when that code runs
    whenever the block is reached (an `if` test, a `finally`)."""
    if isinstance(block, (ast.If, *LOOPS)):
        if block.body and pos < _start(block.body[0]):
            return None  # the test or the iterable
        return "orelse" if block.orelse and pos >= _start(block.orelse[0]) else "body"
    if isinstance(block, TRIES):
        if block.finalbody and pos >= _start(block.finalbody[0]):
            return None
        if not block.handlers or (block.orelse and pos >= _start(block.orelse[0])):
            return None if not block.handlers else "body"
        for k in range(len(block.handlers) - 1, -1, -1):
            if pos >= _start(block.handlers[k]):
                return f"h{k}"
        return "body"
    if isinstance(block, ast.Match):
        found = None
        for k, case in enumerate(block.cases):
            if pos >= _start(case.pattern):
                found = f"c{k}"
        return found
    return None


def chain_of(blocks, node: ast.AST) -> tuple:
    """The chain of `node` inside `blocks` (the constructs around it, outermost first)."""
    return chain_at(blocks, _start(node))


def chain_at(blocks, pos: tuple[int, int]) -> tuple:
    out = []
    for block in blocks:
        branch = branch_of(block, pos)
        if branch is not None:
            out.append((block, branch))
    return tuple(out)


def relative(chain: tuple, base: tuple) -> tuple | None:
    """`chain` seen from code created at `base`: None when it runs on every path that
    code is on (the same block, or a shallower one after it)."""
    n = 0
    while n < len(chain) and n < len(base) and chain[n] == base[n]:
        n += 1
    if n == len(chain):
        return None
    return chain[n:]


def loops_around(chain: tuple, base: tuple) -> list[ast.AST]:
    """The loops around `chain` that are not around `base`: code there may run again
    after later code in the loop."""
    return [block for block, _ in relative(chain, base) or () if isinstance(block, LOOPS)]


def exclusive(a: tuple, b: tuple) -> bool:
    """Two relative chains in different branches of one `if`/`try`/`match`."""
    for (block_a, branch_a), (block_b, branch_b) in zip(a, b):
        if block_a is not block_b:
            return False
        if branch_a != branch_b:
            return not isinstance(block_a, LOOPS)
    return False
