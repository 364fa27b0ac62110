"""`--changed-since REV`: the files changed since the merge base of REV and HEAD
(committed, staged or not), plus untracked files that are not ignored. Only which files
are scanned changes: the tenant catalog still comes from the whole project."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tenantlint.config import ConfigError
from tenantlint.files import SOURCE_SUFFIXES


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except FileNotFoundError:
        raise ConfigError("--changed-since needs git, and git is not on PATH") from None


def changed_files(rev: str, cwd: Path) -> list[Path]:
    """Absolute paths of changed or untracked source files (existing ones only), sorted."""
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise ConfigError(f"--changed-since needs a git repository, and {cwd} is not in one")
    root = Path(top.stdout.strip())
    if rev.startswith("-"):
        raise ConfigError(f"--changed-since: unknown revision `{rev}`")
    if _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root).returncode != 0:
        raise ConfigError(f"--changed-since: unknown revision `{rev}` (try `git fetch` or a full clone)")
    base = _git(["merge-base", rev, "HEAD"], root)
    if base.returncode != 0:
        raise ConfigError(f"--changed-since: `{rev}` and HEAD have no merge base (shallow clone? fetch more history)")
    diff = _git(["diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", base.stdout.strip(), "--"], root)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    for result in (diff, untracked):
        if result.returncode != 0:
            raise ConfigError(f"--changed-since: git failed: {result.stderr.strip().splitlines()[-1:]}")
    names = {n for n in (diff.stdout + untracked.stdout).split("\0") if n}
    paths = [root / n for n in names if n.endswith(SOURCE_SUFFIXES)]
    return sorted(p for p in paths if p.is_file())


def within(paths: list[Path], roots: list[Path]) -> list[Path]:
    """The paths that are one of `roots` or lie under one of them."""
    resolved = [r.resolve() for r in roots]
    out = []
    for path in paths:
        real = path.resolve()
        if any(real == r or r in real.parents for r in resolved):
            out.append(path)
    return out
