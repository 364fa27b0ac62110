"""A minimal LSP client for tests and the latency benchmark: runs the real
`tenantlint server` as a subprocess and speaks JSON-RPC over its stdio."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path


class LspClient:
    def __init__(self, cwd: Path, *, command: list[str] | None = None, env: dict | None = None) -> None:
        self.proc = subprocess.Popen(command or [sys.executable, "-m", "tenantlint", "server"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.inbox: queue.Queue = queue.Queue()
        self.notifications: list[dict] = []
        self.responses: dict[int, dict] = {}
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    # -- wire ---------------------------------------------------------------------------
    def _read(self) -> None:
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            self.inbox.put(json.loads(stream.read(length)))

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _pump(self, timeout: float) -> None:
        message = self.inbox.get(timeout=timeout)
        if message is None:
            raise EOFError("server closed its output: " + self.proc.stderr.read().decode(errors="replace"))
        if "method" in message and "id" in message:  # a request from the server: accept it
            self.notifications.append(message)
            self._send({"id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
        else:
            self.responses[message["id"]] = message

    # -- API ----------------------------------------------------------------------------
    def notify(self, method: str, params: dict) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict | None, timeout: float = 60) -> object:
        self.next_id += 1
        ident = self.next_id
        self._send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while ident not in self.responses:
            self._pump(max(deadline - time.monotonic(), 0.01))
        response = self.responses.pop(ident)
        if "error" in response:
            raise RuntimeError(response["error"])
        return response.get("result")

    def wait_for(self, method: str, predicate=lambda params: True, timeout: float = 60) -> dict:
        """The first not-yet-consumed message `method` whose params satisfy `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.notifications):
                if message["method"] == method and predicate(message.get("params")):
                    del self.notifications[: index + 1]
                    return message["params"]
            self._pump(max(deadline - time.monotonic(), 0.01))

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 60) -> list[dict]:
        def mine(params):
            return params["uri"] == uri and (version is None or params.get("version") == version)
        return self.wait_for("textDocument/publishDiagnostics", mine, timeout)["diagnostics"]

    def initialize(self, root: Path, options: dict | None = None) -> dict:
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                             "capabilities": {}, "initializationOptions": options or {}})
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = path.as_uri()
        language = "sql" if path.suffix == ".sql" else "python"
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": version,
            "text": path.read_text() if text is None else text}})
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [{"text": text}]})

    def close(self) -> int:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", {})
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
