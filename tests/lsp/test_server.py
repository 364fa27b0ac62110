"""`tenantlint server` driven as a real subprocess over stdio with LSP messages: the
diagnostics it publishes are scan's, for unsaved text too; its code actions edit the
buffer as a user expects; a saved schema change reaches open files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.lsp_client import LspClient

pytest.importorskip("pygls", reason="the editor extra (pygls) is not installed: pip install 'tenantlint[lsp]'")

UNSCOPED = '''def total(cur):
    cur.execute("SELECT sum(total) FROM invoices")
    return cur.fetchone()
'''
SCOPED = '''def total(cur, tenant_id):
    cur.execute("SELECT sum(total) FROM invoices WHERE tenant_id = %s", (tenant_id,))
    return cur.fetchone()
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n')
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE invoices (id int primary key, tenant_id int not null, total int);\n"
        "CREATE INDEX invoices_tenant ON invoices (tenant_id);\n"
        "CREATE TABLE notes (id int primary key, body text);\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(UNSCOPED)
    return tmp_path


@pytest.fixture
def client(project: Path):
    lsp = LspClient(project)
    lsp.initialize(project, {"debounce": 0})
    yield lsp
    assert lsp.close() == 0


def scan_json(project: Path, *paths: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--no-cache", "--format", "json", *paths],
                          cwd=project, capture_output=True, text=True)
    return json.loads(proc.stdout)["diagnostics"]


def test_open_publishes_what_scan_reports(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py")
    published = client.diagnostics(uri)
    expected = scan_json(project, "app/views.py")
    assert [(d["code"], d["message"], d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1)
            for d in published] == [(d["code"], d["message"], d["line"], d["column"]) for d in expected]
    assert published[0]["code"] == "TL101" and published[0]["source"] == "tenantlint"
    assert published[0]["severity"] == 1  # Error


def test_unsaved_edit_is_judged(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py")
    assert [d["code"] for d in client.diagnostics(uri, 1)] == ["TL101"]
    client.change(uri, SCOPED, 2)
    assert client.diagnostics(uri, 2) == []
    client.change(uri, UNSCOPED.replace("invoices", "notes"), 3)  # not a tenant table
    assert client.diagnostics(uri, 3) == []
    assert (project / "app" / "views.py").read_text() == UNSCOPED  # nothing written


def test_suppress_action_inserts_directive_and_silences(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py")
    [finding] = client.diagnostics(uri, 1)
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}})
    titles = [a["title"] for a in actions]
    assert any(t.startswith("Suppress TL101") for t in titles) and "Explain TL101" in titles
    suppress = next(a for a in actions if a["title"].startswith("Suppress"))
    [edit] = suppress["edit"]["changes"][uri]
    assert edit["range"]["start"] == edit["range"]["end"] == {"line": 1, "character": len(UNSCOPED.splitlines()[1])}
    assert edit["newText"] == "  # tenantlint: ignore[TL101] "
    lines = UNSCOPED.splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n") + edit["newText"] + "nightly platform report\n"
    client.change(uri, "".join(lines), 2)
    assert client.diagnostics(uri, 2) == []


def test_suppress_action_avoids_multiline_string(client: LspClient, project: Path) -> None:
    text = 'def total(cur):\n    cur.execute("""\n        SELECT sum(total) FROM invoices\n    """)\n'
    uri = client.open(project / "app" / "views.py", text)
    [finding] = client.diagnostics(uri, 1)
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}})
    [edit] = next(a for a in actions if a["title"].startswith("Suppress"))["edit"]["changes"][uri]
    assert edit["range"]["start"]["line"] == 3  # the statement's last line, outside the string


def test_explain_command_shows_rule_docs(client: LspClient, project: Path) -> None:
    client.request("workspace/executeCommand", {"command": "tenantlint.explain", "arguments": ["TL101"]})
    shown = client.wait_for("window/showDocument")
    page = Path(shown["uri"].removeprefix("file://"))
    assert page.read_text().startswith("# TL101 sql-unscoped-query")


def test_hover_says_why(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py")
    client.diagnostics(uri, 1)
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 20}})
    said = hover["contents"]["value"]
    assert "TL101" in said and "`invoices` has no `tenant_id` predicate" in said
    assert client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 0, "character": 2}}) is None
    client.change(uri, SCOPED, 2)  # the unsaved buffer is what is explained
    assert client.diagnostics(uri, 2) == []
    said = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 1, "character": 20}})["contents"]["value"]
    assert "scoped" in said and "tenant_id = %s" in said and "TL101" not in said


def apply(text: str, edits: list[dict]) -> str:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(position):  # ASCII text: UTF-16 units are characters
        return offsets[position["line"]] + position["character"]
    for edit in sorted(edits, key=lambda e: at(e["range"]["start"]), reverse=True):
        text = text[:at(edit["range"]["start"])] + edit["newText"] + text[at(edit["range"]["end"]):]
    return text


def test_fix_action_adds_the_tenant_and_clears_the_finding(client: LspClient, project: Path) -> None:
    text = ('def total(cur, tenant_id, period):\n'
            '    cur.execute("SELECT sum(total) FROM invoices WHERE period = %s", (period,))  # keep me\n'
            '    return cur.fetchone()\n')
    uri = client.open(project / "app" / "views.py", text)
    [finding] = client.diagnostics(uri, 1)
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}})
    fix = actions[0]
    assert fix["title"].endswith("(unsafe: changes behaviour)") and fix["isPreferred"]
    fixed = apply(text, fix["edit"]["changes"][uri])
    assert "WHERE tenant_id = %s AND (period = %s)\", (tenant_id, period,))  # keep me" in fixed
    client.change(uri, fixed, 2)
    assert client.diagnostics(uri, 2) == []
    assert (project / "app" / "views.py").read_text() == UNSCOPED  # an action edits the buffer, not the disk


def test_no_fix_without_a_tenant_in_reach(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py")
    [finding] = client.diagnostics(uri, 1)
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}})
    assert [a["title"].split(" ")[0] for a in actions] == ["Suppress", "Explain"]


def test_saved_schema_change_reaches_open_files(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py", UNSCOPED.replace("invoices", "notes"))
    assert client.diagnostics(uri, 1) == []
    schema = project / "schema.sql"
    schema.write_text(schema.read_text().replace("body text", "body text, tenant_id int not null"))
    client.notify("textDocument/didSave", {"textDocument": {"uri": schema.as_uri()}})
    assert [d["code"] for d in client.diagnostics(uri, 1)] == ["TL101"]


def test_watched_file_change_reaches_open_files(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py")
    assert [d["code"] for d in client.diagnostics(uri, 1)] == ["TL101"]
    (project / "schema.sql").write_text("CREATE TABLE invoices (id int primary key, total int);\n")
    client.notify("workspace/didChangeWatchedFiles",
                  {"changes": [{"uri": (project / "schema.sql").as_uri(), "type": 2}]})
    assert client.diagnostics(uri, 1) == []


def test_positions_are_utf16(client: LspClient, project: Path) -> None:
    text = 'def total(cur):\n    note = "😀"; cur.execute("SELECT sum(total) FROM invoices")\n'
    uri = client.open(project / "app" / "views.py", text)
    [finding] = client.diagnostics(uri, 1)
    # The emoji is one code point but two UTF-16 code units.
    assert finding["range"]["start"] == {"line": 1, "character": text.splitlines()[1].index('"SELECT') + 1}


def test_sql_file_and_close(client: LspClient, project: Path) -> None:
    query = project / "report.sql"
    query.write_text("SELECT * FROM invoices;\n")
    uri = client.open(query)
    assert [d["code"] for d in client.diagnostics(uri, 1)] == ["TL101"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def test_unparseable_buffer_is_reported_not_fatal(client: LspClient, project: Path) -> None:
    uri = client.open(project / "app" / "views.py", "def broken(:\n")
    assert [d["code"] for d in client.diagnostics(uri, 1)] == ["TL001"]
    client.change(uri, UNSCOPED, 2)
    assert [d["code"] for d in client.diagnostics(uri, 2)] == ["TL101"]


def test_missing_extra_is_one_clear_line(tmp_path: Path) -> None:
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] in ('pygls', 'lsprotocol'):\n"
               "            raise ModuleNotFoundError(name=name.split('.')[0])\n"
               "sys.meta_path.insert(0, Block())\n"
               "sys.argv = ['tenantlint', 'server']\n"
               "from tenantlint.cli import main\n"
               "main()\n")
    proc = subprocess.run([sys.executable, "-c", blocker], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("tenantlint: error: `tenantlint server` needs the editor extra: "
                                   "pip install 'tenantlint[lsp]'")
