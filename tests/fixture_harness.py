"""Annotated fixture projects: `# expect: TL101` (or `-- expect:` in SQL) on the line
where a finding must land; `# todo-expect: TL101` marks a known gap (strict xfail).
`# expect[py>=3.12]: TL101` holds only on those Pythons (for behaviour that depends on
the interpreter; newer syntax itself is read on every supported Python).
Anything unannotated that fires is a failure."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from tenantlint.api import scan_paths

MARK = re.compile(r"(?:#|--)\s*(?P<todo>todo-)?expect(?:\[py(?P<op>>=|<)(?P<major>\d+)\.(?P<minor>\d+)\])?:"
                  r"\s*(?P<codes>[A-Z]+\d+(?:\s*,\s*[A-Z]+\d+)*)")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def projects() -> list[Path]:
    return sorted(p.parent for p in (FIXTURES / "rules").rglob("tenantlint.toml"))


def expectations(root: Path) -> tuple[set, set]:
    expected, todo = set(), set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".sql") or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in MARK.finditer(line):
                if not _python_matches(match):
                    continue
                for code in re.split(r"\s*,\s*", match.group("codes")):
                    item = (path.relative_to(root).as_posix(), number, code)
                    (todo if match.group("todo") else expected).add(item)
    return expected, todo


def _python_matches(match: re.Match) -> bool:
    if not match.group("op"):
        return True
    newer = sys.version_info[:2] >= (int(match.group("major")), int(match.group("minor")))
    return newer if match.group("op") == ">=" else not newer


def actual(root: Path, **options) -> set:
    report = scan_paths(["."], config=root / "tenantlint.toml", cwd=root, root=root, **options)
    return {(d.path, d.location.line, d.code) for d in report.diagnostics}
