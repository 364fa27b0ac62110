"""Formatters: golden files on the fixture project (text, json, sarif, github), SARIF
validated against the official 2.1.0 schema, GitHub escaping and per-step caps, and the
terminal rules (colour, progress bar).

Regenerate the goldens after an intended change with TENANTLINT_UPDATE_GOLDEN=1."""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import jsonschema
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cli"))

from clihelp import DATA, PROJECT, SEED, SEED_MISSING, run  # noqa: E402

from tenantlint import __version__  # noqa: E402
from tenantlint.diagnostics import Diagnostic, Location, Report, Severity  # noqa: E402
from tenantlint.output import render  # noqa: E402
from tenantlint.output import github_format, progress  # noqa: E402

GOLDEN = HERE / "golden"
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())


def normalized(text: str, fmt: str = "") -> str:
    """Goldens must not change with the version, nor when a rule's docs are edited (the
    SARIF rule texts are checked by test_sarif_shape_github_needs instead)."""
    if fmt == "sarif":
        document = json.loads(text)
        for rule in document["runs"][0]["tool"]["driver"]["rules"]:
            for key in ("shortDescription", "fullDescription", "help"):
                rule[key] = {k: "<docs>" for k in rule[key]}
        text = json.dumps(document, indent=2) + "\n"
    return text.replace(f'"{__version__}"', '"<version>"')


@pytest.mark.parametrize("fmt, name", [("text", "project.txt"), ("json", "project.json"),
                                       ("sarif", "project.sarif"), ("github", "project.github")])
def test_golden(fmt: str, name: str):
    result = run(["scan", "--format", fmt], PROJECT, env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    actual = normalized(result.stdout, fmt)
    assert str(PROJECT) not in actual and "/work/" not in actual  # relative paths only
    golden = GOLDEN / name
    if os.environ.get("TENANTLINT_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert actual == golden.read_text(), f"{name} changed; rerun with TENANTLINT_UPDATE_GOLDEN=1 if intended"


def sarif_of(cwd: Path, *args: str) -> dict:
    result = run(["scan", "--format", "sarif", *args], cwd)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_sarif_of_the_fixture_project_validates():
    jsonschema.validate(sarif_of(PROJECT), SCHEMA)


@pytest.mark.skipif(not SEED.is_dir(), reason=SEED_MISSING)
def test_sarif_of_the_seed_suite_validates():
    document = sarif_of(SEED)  # read in place; nothing is written there
    jsonschema.validate(document, SCHEMA)
    results = document["runs"][0]["results"]
    assert results
    for result in results:
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%" and not location["uri"].startswith(("/", "file:"))


def test_sarif_shape_github_needs():
    document = sarif_of(PROJECT)
    run_ = document["runs"][0]
    assert document["version"] == "2.1.0"
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    from tenantlint.rules import RULES

    assert list(rules) == [r.code for r in RULES]
    tl101 = rules["TL101"]
    assert tl101["shortDescription"]["text"] and tl101["fullDescription"]["text"]
    assert tl101["help"]["markdown"].startswith("## What it does") and tl101["help"]["text"]
    assert float(tl101["properties"]["security-severity"]) >= 7.0
    assert isinstance(tl101["properties"]["security-severity"], str)
    assert tl101["properties"]["precision"] in ("very-high", "high", "medium", "low")
    assert {"security", "CWE-639"} <= set(tl101["properties"]["tags"])
    for result in run_["results"]:
        assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"]["tenantlint/v1"]
    # The suppressed finding (orders.py line 24) is not in the log at all.
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] != 24 for r in run_["results"]
               if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/orders.py")


def test_sarif_fingerprints_survive_line_moves(project_copy: Path):
    before = {r["partialFingerprints"]["tenantlint/v1"] for r in sarif_of(project_copy)["runs"][0]["results"]}
    orders = project_copy / "app" / "orders.py"
    orders.write_text("\n\n\n" + orders.read_text())
    after = sarif_of(project_copy)["runs"][0]["results"]
    assert {r["partialFingerprints"]["tenantlint/v1"] for r in after} == before
    assert any(r["locations"][0]["physicalLocation"]["region"]["startLine"] == 13 for r in after)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    from clihelp import copy_tree

    return copy_tree(PROJECT, tmp_path / "project")


def diag(code: str, severity: Severity, line: int, message: str = "m", path: str = "a.py") -> Diagnostic:
    return Diagnostic(code=code, name="some-rule", severity=severity, message=message, path=path,
                      location=Location(line, 1, line, 5), fingerprint=f"fp{line}")


def test_github_escaping():
    d = diag("TL101", Severity.ERROR, 3, message="100% of rows\r\nleak: a,b", path="dir,x/a:b.py")
    line = github_format.annotation(d)
    assert line == ("::error file=dir%2Cx/a%3Ab.py,line=3,col=1,endLine=3,endColumn=5,title=TL101"
                    "::100%25 of rows%0D%0Aleak: a,b")
    assert github_format.annotation(diag("TL104", Severity.WARNING, 1)).startswith("::warning ")


def test_github_caps_and_summarises_the_rest():
    diags = [diag("TL101", Severity.ERROR, i) for i in range(1, 14)] + [diag("TL104", Severity.WARNING, 20)]
    lines = render(Report(diagnostics=diags, files_scanned=1), "github").splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 1
    assert [line for line in lines if line.startswith("a.py:")] == ["a.py:11:1: TL101 m", "a.py:12:1: TL101 m",
                                                                    "a.py:13:1: TL101 m"]
    assert lines[-1].startswith("::notice title=tenantlint::3 of 14 findings are not annotated")


class FakeTTY(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_colour_only_on_a_tty_and_never_with_no_color():
    assert progress.color_wanted(FakeTTY(True), {})
    assert not progress.color_wanted(FakeTTY(False), {})
    assert not progress.color_wanted(FakeTTY(True), {"NO_COLOR": "1"})
    assert not progress.color_wanted(FakeTTY(True), {"NO_COLOR": ""})
    report = Report(diagnostics=[diag("TL101", Severity.ERROR, 1)], files_scanned=1)
    assert "\033[" in render(report, "text", color=True)
    assert "\033[" not in render(report, "text", color=False)


def test_progress_bar_only_for_people():
    many = progress.MIN_FILES
    assert progress.wanted(many, FakeTTY(True), {})
    assert not progress.wanted(many - 1, FakeTTY(True), {})
    assert not progress.wanted(many, FakeTTY(False), {})
    assert not progress.wanted(many, FakeTTY(True), {"PRE_COMMIT": "1"})
    assert not progress.wanted(many, FakeTTY(True), {"CI": "true"})
    stream = FakeTTY(True)
    bar = progress.for_scan(2, stream, {})
    assert bar is None  # a short scan: no bar at all
    bar = progress.Bar(2, stream)
    bar("a.py")
    bar("b.py")
    bar.close()
    assert "2/2" in stream.getvalue()


def test_no_progress_bar_on_stderr_off_a_tty():
    result = run(["scan"], PROJECT)
    assert result.stderr == ""
