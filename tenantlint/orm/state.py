"""Query values as the flow analysis carries them: a Root is where a query is created
(where it is reported); a State is one form of it after some narrowing."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import ast


@dataclass(eq=False)
class Root:
    node: ast.AST
    framework: str  # django | sqlalchemy
    escaped: bool = False  # created under scopes_disabled(): managers do not scope it
    id_source: str | None = None  # a lookup by an untrusted id: where the id comes from


@dataclass(frozen=True)
class State:
    root: Root
    models: frozenset[str] = frozenset()  # tenant models selected or joined
    scoped: frozenset[str] = frozenset()
    ties: frozenset[tuple[str, str]] = frozenset()  # tenant-column equalities (joins)
    opaque: bool = False  # narrowed by something we cannot read
    write: bool = False  # a bulk update/delete
    dropped: bool = False  # raw()/extra()/insert: not an ORM read to judge here
    last_entity: str | None = None  # SQLAlchemy filter_by() target
    # What scoped it, for the decision trace (`tenantlint why`): (reason, path, line),
    # path "" for the file being checked.
    # Not part of equality: two forms that differ only in why they are scoped are one.
    by: tuple[tuple[str, str, int], ...] = field(default=(), compare=False)

    def derive(self, **changes) -> "State":
        return replace(self, **changes)

    def narrowed(self, scoped=frozenset(), ties=frozenset(), opaque=False, by: tuple[str, int] | None = None) -> "State":
        return replace(self, scoped=self.scoped | scoped, ties=self.ties | ties, opaque=self.opaque or opaque,
                       by=self.by + ((by[0], "", by[1]),) if by is not None and (scoped or ties) else self.by)

    def scoped_by(self, reason: str, line: int, path: str = "") -> "State":
        """Every model of the query scoped, by `reason` (a manager, a check, a provider)."""
        return replace(self, scoped=self.models, by=self.by + ((reason, path, line),))

    def unscoped(self, always: frozenset[str] = frozenset()) -> frozenset[str]:
        scoped = set(self.scoped) | (set(self.models) & set(always))
        changed = True
        while changed:
            changed = False
            for a, b in self.ties:
                for x, y in ((a, b), (b, a)):
                    if x in scoped and y not in scoped:
                        scoped.add(y)
                        changed = True
        return frozenset(m for m in self.models if m not in scoped)


def opaque_forms(states) -> frozenset[State]:
    """Too many forms of a query to follow one by one (the flow engine's cap): one opaque
    form per query, scoped only in what every form scoped, judged unverifiable (TL002)
    where any form left a model unscoped."""
    forms: dict[int, list[State]] = {}
    for state in states:
        forms.setdefault(id(state.root), []).append(state)
    out = []
    for group in forms.values():
        first = group[0]
        scoped = frozenset.intersection(*(s.scoped for s in group))
        ties = frozenset.intersection(*(s.ties for s in group))
        out.append(replace(first, models=frozenset().union(*(s.models for s in group)), scoped=scoped, ties=ties,
                           opaque=True, write=any(s.write for s in group), dropped=all(s.dropped for s in group),
                           last_entity=None, by=()))
    return frozenset(out)


@dataclass
class Verdict:
    code: str
    models: list[str] = field(default_factory=list)


def judge(states, always: frozenset[str], always_reads: frozenset[str] | None = None) -> Verdict | None:
    """One verdict per root: a bulk write outranks a read, a read outranks an opaque one.
    The models named are those unscoped in any form of the query that earned the code."""
    best: Verdict | None = None
    rank = {"TL202": 3, "TL201": 2, "TL002": 1}
    for state in states:
        if state.dropped:
            continue
        missing = state.unscoped(always if state.write or always_reads is None else always_reads)
        if not missing:
            continue
        code = "TL002" if state.opaque else ("TL202" if state.write else "TL201")
        if best is None or rank[code] > rank[best.code]:
            best = Verdict(code, sorted(missing))
        elif code == best.code:
            best.models = sorted(set(best.models) | missing)
    return best
