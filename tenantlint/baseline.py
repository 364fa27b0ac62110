"""Baselines: fingerprints in, fingerprints out.

A baseline is the set of findings a team has accepted for now, so an existing codebase
can turn tenantlint on today and only new leaks fail the gate. It stores each finding's
fingerprint (rule, path, enclosing function/class, normalized text, occurrence index;
never the line), so a finding that merely moved stays silenced, while a second identical
finding in the same place gets a new occurrence index and is reported. Entries whose
finding is gone are "stale": listed so the file can shrink.

The file is JSON, sorted by (path, code, fingerprint) and without line numbers, so it
changes only when findings do and diffs cleanly in review."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from tenantlint.config import ConfigError
from tenantlint.diagnostics import Diagnostic, Report

VERSION = 1


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    code: str
    fingerprint: str
    message: str = ""

    def describe(self) -> str:
        return f"{self.path} {self.code} ({self.fingerprint}) {self.message}".rstrip()


def entries_of(diagnostics: Iterable[Diagnostic]) -> list[Entry]:
    return sorted(Entry(d.path, d.code, d.fingerprint, d.message) for d in diagnostics)


def load(path: Path) -> list[Entry]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"baseline not found: {path} (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(f"baseline {path} is not a tenantlint baseline: nested too deeply to read") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise ConfigError(f"baseline {path} is not a tenantlint baseline (version {VERSION})")
    out = []
    for item in data["findings"]:
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise ConfigError(f"baseline {path}: every finding needs a `fingerprint`")
        out.append(Entry(str(item.get("path", "")), str(item.get("code", "")), item["fingerprint"],
                         str(item.get("message", ""))))
    return out


def dumps(entries: Iterable[Entry]) -> str:
    findings = [{"path": e.path, "code": e.code, "fingerprint": e.fingerprint, "message": e.message}
                for e in sorted(set(entries))]
    return json.dumps({"version": VERSION, "tool": "tenantlint", "findings": findings}, indent=2) + "\n"


def write(path: Path, diagnostics: Iterable[Diagnostic], *, keep: Iterable[Entry] = ()) -> int:
    """Write the current findings (plus `keep`: entries of an older baseline for files or
    codes this scan did not look at), sorted. Returns the number of entries written."""
    entries = set(entries_of(diagnostics)) | set(keep)
    try:
        Path(path).write_text(dumps(entries), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return len(entries)


def outside_scan(entries: Iterable[Entry], scanned: set[str], wants: Callable[[str, str], bool]) -> list[Entry]:
    """Entries this scan cannot judge: their file was not scanned or their code not selected."""
    return [e for e in entries if e.path not in scanned or not wants(e.code, e.path)]


def apply(report: Report, entries: Iterable[Entry], scanned: set[str],
          wants: Callable[[str, str], bool] = lambda code, path: True) -> Report:
    """Drop findings whose fingerprint is in the baseline; list as stale the entries of
    scanned files and selected codes that no longer match anything."""
    entries = list(entries)
    known = {e.fingerprint for e in entries}
    found = {d.fingerprint for d in report.diagnostics}
    kept = [d for d in report.diagnostics if d.fingerprint not in known]
    report.baselined += len(report.diagnostics) - len(kept)
    report.diagnostics = kept
    judged = set(entries) - set(outside_scan(entries, scanned, wants))
    report.stale_baseline = [e.describe() for e in sorted(judged) if e.fingerprint not in found]
    return report
