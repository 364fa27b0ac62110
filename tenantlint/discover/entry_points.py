"""Where requests and tasks enter the project, found in the catalog pass.

Each file's entry points (tenantlint.reach.entry_points: routes, views, viewsets, tasks,
management commands, CLI commands) by qualified name; with the project call graph they
give every function's reach (`request` / `task`) across modules
(tenantlint.reach.project_reach)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.reach import entry_points

# Words without which a file has no entry point: decorators, view and command bases, and a
# Django function view's `request` parameter.
_WORDS = (b"def ", b"request", b"route", b"task", b"View", b"Command", b"command", b"api_view", b"job",
          b"actor", b"Resource", b"Endpoint", b".get(", b".post(", b".put(", b".delete(", b".patch(")


@dataclass(frozen=True)
class EntryFact:
    path: str
    module: str
    entries: tuple[tuple[str, str], ...]  # (qualified function, "request" / "task")


class EntryPoints:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    gaps = False

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        # `class X(ListAPIView): queryset = ...` alone is a view too (its body has no def).
        return (b"def " in data or b"class " in data) and any(word in data for word in _WORDS[1:])

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[EntryFact]:
        entries = entry_points(tree, module)
        if entries:
            yield EntryFact(path, module, entries)


def entry_index(facts: Iterable[EntryFact]) -> dict[str, str]:
    """Qualified function -> `request` / `task` (a function both is `request`)."""
    out: dict[str, str] = {}
    for fact in facts:
        for name, kind in fact.entries:
            if out.get(name) != "request":
                out[name] = kind
    return out


DISCOVERERS: tuple = (EntryPoints(),)
