"""`tenantlint server`: a Language Server over stdio (pygls).

Diagnostics on open, change (debounced) and save, for unsaved text too, from the same
engine and catalog as `scan`; code actions: the fix `scan --diff --unsafe-fixes` would
make (verified by a re-check, as there), "suppress with reason" and "explain rule";
hover shows what `tenantlint why` says about the line. Analysis runs on one
worker thread, in order, so the event loop stays free to take the next keystroke and
a stale answer (the buffer changed meanwhile) is dropped instead of published."""
from __future__ import annotations

import asyncio
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from tenantlint import __version__
from tenantlint.config import ConfigError
from tenantlint.diagnostics import Diagnostic
from tenantlint.fixes import Fix
from tenantlint.fixes.plan import FIXABLE
from tenantlint.lsp.convert import (EXPLAIN_COMMAND, SOURCE, code_point_range, explain_action, fix_action,
                                    suppress_action, to_lsp)
from tenantlint.lsp.workspace import Projects
from tenantlint.rules import rule_for

log = logging.getLogger(__name__)
DEFAULT_DEBOUNCE = 0.15  # seconds of quiet typing before a buffer is re-checked


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


class TenantlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tenantlint", __version__)
        self.debounce = DEFAULT_DEBOUNCE
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenantlint-check")
        self.projects = Projects()
        self.findings: dict[str, list[Diagnostic]] = {}  # uri -> last published findings
        self.pending: dict[str, asyncio.Task] = {}

    # -- diagnostics ------------------------------------------------------------------
    def schedule(self, uri: str, delay: float) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._check_later(uri, delay))

    async def _check_later(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.check(uri)

    async def check(self, uri: str) -> None:
        path = uri_to_path(uri)
        if path is None:
            return
        document = self.workspace.get_text_document(uri)
        version, text = document.version, document.source
        loop = asyncio.get_running_loop()
        try:
            verdict = await loop.run_in_executor(self.worker, self._diagnose, path, text)
        except ConfigError as exc:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"tenantlint: {exc}"))
            return
        except Exception as exc:  # noqa: BLE001 - a server must outlive a bug: say it, keep serving
            log.exception("tenantlint failed on %s", path)
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error, message=f"tenantlint failed on {path.name}: {exc}"))
            return
        current = self.workspace.get_text_document(uri)
        if current.version != version:
            return  # the buffer moved on; its own check is scheduled
        self.findings[uri] = verdict.diagnostics
        lines = current.lines
        published = [to_lsp(d, current.position_codec.range_to_client_units(lines, code_point_range(d, lines)))
                     for d in verdict.diagnostics]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=published, version=version))

    def _diagnose(self, path: Path, text: str):
        return self.projects.for_path(path).diagnose(path, text)

    def explain(self, path: Path, line: int, text: str) -> str | None:
        return self.projects.for_path(path).explain(path, line, text)

    def fixes(self, path: Path, text: str, diagnostics: list[Diagnostic]) -> dict[str, Fix]:
        return self.projects.for_path(path).fixes(path, text, diagnostics)

    async def recheck_open(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0)


server = TenantlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: TenantlintServer, params: types.InitializeParams) -> None:
    options = params.initialization_options or {}
    if isinstance(options, dict) and isinstance(options.get("debounce"), (int, float)):
        ls.debounce = max(0.0, float(options["debounce"]))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: TenantlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: TenantlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, ls.debounce)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: TenantlintServer, params: types.DidSaveTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    if path is not None and ls.projects.changed(path):
        await ls.recheck_open()  # a saved model or config can change every open file's answer
    else:
        ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TenantlintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.findings.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched(ls: TenantlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    changed = [uri_to_path(change.uri) for change in params.changes]
    if any([ls.projects.changed(path) for path in changed if path is not None]):
        await ls.recheck_open()  # a branch switch or a generated migration, outside the editor


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
async def code_action(ls: TenantlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    path = uri_to_path(uri)
    document = ls.workspace.get_text_document(uri)
    text, lines, codec = document.source, document.lines, document.position_codec
    by_fingerprint = {d.fingerprint: d for d in ls.findings.get(uri, ())}
    wanted = []
    for lsp_diag in params.context.diagnostics:
        if lsp_diag.source != SOURCE or not isinstance(lsp_diag.data, dict):
            continue
        diag = by_fingerprint.get(lsp_diag.data.get("fingerprint"))
        if diag is not None:  # else from an older version of the buffer: its edit could land anywhere
            wanted.append((diag, lsp_diag))
    if not wanted or path is None:
        return []

    def line_end(line: int) -> types.Position:
        end = lines[line].rstrip("\r\n") if line < len(lines) else ""
        return codec.position_to_client_units(lines, types.Position(line=line, character=len(end)))

    fixes = {}
    fixable = [diag for diag, _ in wanted if diag.code in FIXABLE]
    if fixable:
        loop = asyncio.get_running_loop()
        try:
            fixes = await loop.run_in_executor(ls.worker, ls.fixes, path, text, fixable)
        except Exception:  # noqa: BLE001 - no fix offered is better than no action at all
            log.exception("tenantlint could not plan fixes for %s", path)
    actions: list[types.CodeAction] = []
    for diag, lsp_diag in wanted:
        fix = fixes.get(diag.fingerprint)
        if fix is not None:
            actions.append(fix_action(uri, text, fix, lsp_diag, lambda r: codec.range_to_client_units(lines, r)))
        action = suppress_action(uri, text, diag, lsp_diag, is_sql=path.suffix == ".sql", client_line_end=line_end)
        if action is not None:
            actions.append(action)
        actions.append(explain_action(diag.code, lsp_diag))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: TenantlintServer, params: types.HoverParams) -> types.Hover | None:
    """What `tenantlint why` says about the hovered line, when it judged something there."""
    uri = params.text_document.uri
    path = uri_to_path(uri)
    if path is None:
        return None
    text = ls.workspace.get_text_document(uri).source
    loop = asyncio.get_running_loop()
    try:
        said = await loop.run_in_executor(ls.worker, ls.explain, path, params.position.line + 1, text)
    except ConfigError:
        return None
    if said is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                    value=f"```text\n{said.rstrip()}\n```"))


@server.command(EXPLAIN_COMMAND)
def explain(ls: TenantlintServer, code: str) -> None:
    try:
        rule = rule_for(str(code))
    except KeyError:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                       message=f"tenantlint: unknown rule {code}"))
        return
    folder = Path(tempfile.gettempdir()) / "tenantlint-docs"
    folder.mkdir(exist_ok=True)
    page = folder / f"{rule.code}.md"
    page.write_text(f"# {rule.code} {rule.name} ({rule.severity.value})\n\n{rule.summary}\n\n{rule.docs()}\n",
                    encoding="utf-8")
    ls.window_show_document(types.ShowDocumentParams(uri=page.as_uri(), take_focus=True))


def serve() -> None:
    server.start_io()
