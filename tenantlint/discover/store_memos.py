"""The project's memoizing decorators backed by a shared store, for the catalog (see
`tenantlint/stores/memo_decorators.py`): candidates by their shape, per file."""
from __future__ import annotations

import ast
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.names import import_map
from tenantlint.stores.memo_decorators import MemoDecoratorFact, candidates


class MemoDecorators:
    triggers = (b"(*",)  # a wrapper's `(*args`, a call's `(*args`
    gaps = False

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[MemoDecoratorFact]:
        if not module:
            return []
        found = candidates(tree, import_map(tree, module).qualify)
        return [MemoDecoratorFact(path, module, tuple(found))] if found else []


DISCOVERERS: tuple = (MemoDecorators(),)
