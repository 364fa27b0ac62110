"""The decision trace: what decided each verdict, for `tenantlint why PATH:LINE`.

`why` runs the same per-file analysis as `scan`, with a Recorder on the file's context
(`FileContext.trace`). Checkers say what they decided through `ctx.decide(...)`; in a
normal scan `ctx.trace` is None and `decide` returns at once, so scans pay nothing.

How a checker (any family: SQL, ORM, stores, documents, writes, memo...) adopts it:

    self.ctx.decide(node, "orm", "Invoice", SCOPED, "tenant lookup `.filter(org=org)`",
                    evidence=(self.ctx.path, 12))

- `node`: the AST node the verdict is about (reported where a finding would be), or a
  `(line, end_line)` pair.
- `family`: a short word for the checker family (`sql`, `orm`, `stores`, `schema`...).
- `subject`: the table, model, call or key the verdict is about.
- `verdict`: one of the constants below.
- `reason`: one short, quotable clause: what scoped it, or what is missing.
- `evidence`: where the deciding fact lives, as `(path, line)` (a predicate, a
  manager's definition, a policy, a scope provider), when it is somewhere else than
  the node itself.

A family that records nothing still gets its findings printed by `why` with their
messages: recording is an explanation, never a second verdict."""
from __future__ import annotations

from dataclasses import dataclass, field

SCOPED = "scoped"  # a tenant predicate, manager, provider, RLS or check decided it
UNSCOPED = "unscoped"  # a finding: what is missing is the reason
PARTLY = "scoped on some paths"  # a filter that does not run on every path (the finding says which)
UNVERIFIED = "unverified"  # TL002: cannot be decided statically
NOT_TENANT = "not judged"
KNOWN = "known"  # a fact of the catalog the verdicts rest on (a tenant table, its columns)  # names nothing the catalog knows as tenant data


@dataclass(frozen=True)
class Decision:
    family: str
    line: int
    end_line: int
    subject: str
    verdict: str
    reason: str
    evidence: tuple[str, int] | None = None
    path: str = ""  # the file the verdict is about, when not the traced file (schema rules)

    def where(self) -> str:
        return f"{self.evidence[0]}:{self.evidence[1]}" if self.evidence else ""


@dataclass
class Recorder:
    """Collects the decisions of one file's analysis (in reading order, without
    repeats: a string judged on several paths says the same thing once)."""

    decisions: list[Decision] = field(default_factory=list)

    def record(self, decision: Decision) -> None:
        if decision not in self.decisions:
            self.decisions.append(decision)
