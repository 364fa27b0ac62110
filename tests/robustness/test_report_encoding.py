"""Reports are always written, whole: a path that is not UTF-8 or a message holding a
lone surrogate is escaped, never a UnicodeEncodeError that loses the report (exit 1
even with --exit-zero). SARIF URIs are percent-encoded (RFC 3986) and relative."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

import pytest

from tenantlint.diagnostics import Diagnostic, Location, Report, Severity, with_fingerprints
from tenantlint.output import render

REPO = Path(__file__).resolve().parents[2]
LEAK = 'def f(cur):\n    cur.execute("DELETE FROM orders")\n'
ODD_NAMES = [b"caf\xe9.py", b"a b#c%d.py", b"x:y.py", b"new\nline.py", "\u00fcml\u00e4ut.py".encode()]


def _project(tmp_path: Path, names=ODD_NAMES) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "tenantlint.toml").write_text('tenant-tables = ["orders"]\n')
    for name in names:
        with open(os.path.join(os.fsencode(root), name), "w") as fh:
            fh.write(LEAK)
    return root


def _scan(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--no-cache", *args], cwd=root, env=env,
                          capture_output=True, timeout=120)


@pytest.mark.skipif(sys.platform == "darwin", reason="APFS refuses names that are not UTF-8")
def test_text_and_github_reports_with_non_utf8_paths_are_written(tmp_path):
    root = _project(tmp_path)
    proc = _scan(root, "--exit-zero", "-o", "report.txt", "--also", "github:gh.txt", "--also", "sarif:out.sarif", ".")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    text = (root / "report.txt").read_bytes()
    assert b"caf\xe9.py:2:" in text  # the file's own bytes, as the terminal shows them
    assert text.count(b"TL101") == len(ODD_NAMES)
    assert (root / "gh.txt").read_bytes().count(b"title=TL101") == len(ODD_NAMES)


@pytest.mark.skipif(sys.platform == "darwin", reason="APFS refuses names that are not UTF-8")
def test_sarif_uris_are_percent_encoded_and_relative(tmp_path):
    root = _project(tmp_path)
    proc = _scan(root, "--format", "sarif", "-o", "out.sarif", ".")
    assert proc.returncode == 1, proc.stderr
    results = json.loads((root / "out.sarif").read_text())["runs"][0]["results"]
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    assert len(uris) == len(ODD_NAMES)
    for uri in uris:
        assert not urlsplit(uri).scheme and not uri.startswith("/"), uri
        assert all(c.isalnum() or c in "-._~/%" for c in uri), uri  # RFC 3986 unreserved + escapes
    assert sorted(unquote_to_bytes(u) for u in uris) == sorted(ODD_NAMES)


@pytest.mark.parametrize("fmt", ["text", "github", "json", "sarif"])
def test_a_lone_surrogate_in_a_message_is_escaped_not_fatal(tmp_path, fmt):
    from tenantlint.cli import _write

    diag = Diagnostic(code="TL401", name="cache-key-unscoped", severity=Severity.ERROR,
                      message="cache key `\ud800user` has no tenant component", path="caf\udce9.py",
                      location=Location(1, 1, 1, 1), snippet="k")
    report = Report(diagnostics=with_fingerprints([diag]), files_scanned=1)
    target = tmp_path / f"out.{fmt}"
    _write(target, render(report, fmt))
    data = target.read_bytes()
    assert b"\\ud800user" in data  # escaped as `\ud800` (JSON's own escape looks the same)
    if fmt in ("text", "github"):
        assert b"caf\xe9.py" in data


def test_a_lone_surrogate_on_stdout_is_escaped_not_fatal(tmp_path, monkeypatch):
    """The same report on stdout (through click, which a strict stream would fail)."""
    from click.testing import CliRunner

    import tenantlint.engine
    from tenantlint.cli import main

    real_scan = tenantlint.engine.scan

    def scan(*args, **kwargs):
        report = real_scan(*args, **kwargs)
        report.diagnostics = [d.__class__(**{**d.__dict__, "message": d.message + " \ud800"})
                              for d in report.diagnostics]
        return report

    root = _project(tmp_path, names=[b"a.py"])
    monkeypatch.setattr(tenantlint.engine, "scan", scan)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["scan", "--no-cache", "."], catch_exceptions=False)
    assert result.exit_code == 1 and b"TL101" in result.stdout_bytes and b"\\ud800" in result.stdout_bytes
