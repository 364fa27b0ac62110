"""tenantlint findings as LSP values: pure functions, no server state.

Ranges are built in code points (what tenantlint's 1-based columns count) and turned
into the client's position encoding (UTF-16 unless negotiated) by the document's codec."""
from __future__ import annotations

from typing import Sequence

from lsprotocol import types

from tenantlint.add_ignore import suppression_edit
from tenantlint.diagnostics import Diagnostic, Severity
from tenantlint.fixes import Fix

SOURCE = "tenantlint"
EXPLAIN_COMMAND = "tenantlint.explain"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning}


def code_point_range(diag: Diagnostic, lines: Sequence[str]) -> types.Range:
    loc = diag.location
    start_line = max(loc.line - 1, 0)
    end_line = max(loc.end_line - 1, start_line)
    start = types.Position(line=start_line, character=max(loc.column - 1, 0))
    end = types.Position(line=end_line, character=max(loc.end_column - 1, 0))
    if (end.line, end.character) <= (start.line, start.character):
        # A point finding (TL001 at a column): underline to the end of its line.
        text = lines[start_line] if start_line < len(lines) else ""
        end = types.Position(line=start_line, character=len(text.rstrip("\r\n")))
    return types.Range(start=start, end=end)


def to_lsp(diag: Diagnostic, client_range: types.Range) -> types.Diagnostic:
    return types.Diagnostic(
        range=client_range,
        message=diag.message,
        severity=_SEVERITY.get(diag.severity, types.DiagnosticSeverity.Warning),
        code=diag.code,
        source=SOURCE,
        data={"code": diag.code, "line": diag.location.line, "suppress": list(diag.suppress_lines),
              "fingerprint": diag.fingerprint},
    )


def suppress_action(uri: str, text: str, diag: Diagnostic, lsp_diag: types.Diagnostic, *, is_sql: bool,
                    client_line_end) -> types.CodeAction | None:
    """"Suppress with reason": a `tenantlint: ignore[CODE] ` directive on a line of the
    flagged statement where a comment can end the line; the reason goes after it.
    `client_line_end(line)` is that line's end in client units."""
    edit = suppression_edit(text, diag, "", is_sql=is_sql)
    if edit is None:
        return None
    number, new_line = edit
    lines = text.splitlines(keepends=True)
    old = lines[number - 1]
    body = old.rstrip("\r\n")
    new_body = new_line.rstrip("\r\n")
    if not new_body.startswith(body):
        # The directive was merged into an existing one: replace the whole line.
        replace = types.Range(start=types.Position(line=number - 1, character=0),
                              end=client_line_end(number - 1))
        text_edit = types.TextEdit(range=replace, new_text=new_body)
    else:
        # Append only, so the cursor lands right after the directive, where the reason goes.
        end = client_line_end(number - 1)
        text_edit = types.TextEdit(range=types.Range(start=end, end=end), new_text=new_body[len(body):] + " ")
    return types.CodeAction(
        title=f"Suppress {diag.code} on this statement (add a reason)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[lsp_diag],
        edit=types.WorkspaceEdit(changes={uri: [text_edit]}),
    )


def code_point_position(text: str, offset: int) -> types.Position:
    """The (line, code point) position of a character offset into `text`."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=line, character=offset - start)


def fix_action(uri: str, text: str, fix: Fix, lsp_diag: types.Diagnostic, to_client) -> types.CodeAction:
    """A tenantlint fix as a quick fix. Tenant fixes change behaviour (unsafe in ruff's
    sense): offered, never applied on save. `to_client` turns a code-point range into the
    client's units."""
    edits = [types.TextEdit(range=to_client(types.Range(start=code_point_position(text, e.start),
                                                         end=code_point_position(text, e.end))),
                            new_text=e.text) for e in fix.edits]
    return types.CodeAction(
        title=fix.title if fix.safe else f"{fix.title} (unsafe: changes behaviour)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[lsp_diag],
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )


def explain_action(code: str, lsp_diag: types.Diagnostic) -> types.CodeAction:
    return types.CodeAction(
        title=f"Explain {code}",
        kind=types.CodeActionKind.Empty,
        diagnostics=[lsp_diag],
        command=types.Command(title=f"Explain {code}", command=EXPLAIN_COMMAND, arguments=[code]),
    )
