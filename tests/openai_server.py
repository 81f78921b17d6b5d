"""A small but real OpenAI-compatible ``/v1/embeddings`` HTTP server on 127.0.0.1, for tests.

Vectors are deterministic (seeded by the SHA-256 of the text), so any two runs agree. Every
request is logged. Faults can be queued to test the client's error handling: ``("429", s)``
(rate limit with ``Retry-After: s``), ``("500",)``, ``("slow", s)`` (answer after ``s`` seconds),
``("401",)``, ``("badjson",)`` (HTTP 200 with an invalid body), ``("truncated",)`` (HTTP 200 with
a body cut short; both logged with status 299 so that they do not count as served). ``slow_after=(k, s)`` makes every request after the first ``k`` served ones wait
``s`` seconds (to kill a client mid-job).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def fake_vector(text: str, dim: int) -> np.ndarray:
    """The server's deterministic unit vector for ``text``."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


@dataclass
class Request:
    inputs: list[str]
    model: str
    dimensions: int | None
    encoding_format: str | None
    status: int
    auth: str = ""


@dataclass
class FakeOpenAI:
    """Start with ``with FakeOpenAI() as srv: ...``; ``srv.base_url`` is the API root."""

    dim: int = 16
    api_key: str = "test-key"
    ignore_format: bool = False  # answer floats even when base64 was asked (like many compatible servers)
    slow_after: tuple[int, float] | None = None
    faults: deque = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    served: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.received = threading.Event()  # set on every request; tests wait on it
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- log helpers -----------------------------------------------------------------------
    def served_texts(self) -> list[str]:
        """Texts of successfully answered requests, in order."""
        return [t for r in self.requests if r.status == 200 for t in r.inputs]

    # -- handling --------------------------------------------------------------------------
    def _send(
        self, h: BaseHTTPRequestHandler, req: Request | None, status: int, body: bytes, headers: dict | None = None, *, logged: int | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        # Logged before the body goes out: a client that has read its answer must find it logged (no race).
        # 0 until answered, and back to 0 if the write fails: a stalled or abandoned request never counts as served.
        if req is not None:
            req.status = logged or status
        try:
            h.wfile.write(body)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            if req is not None:
                req.status = 0

    def _error(self, h: BaseHTTPRequestHandler, req: Request | None, status: int, message: str, headers: dict | None = None) -> None:
        body = json.dumps({"error": {"message": message, "type": "test", "code": status}}).encode()
        self._send(h, req, status, body, headers)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.path.rstrip("/") != "/v1/embeddings":
            return self._error(h, None, 404, f"no route {h.path}")
        payload = json.loads(h.rfile.read(int(h.headers.get("Content-Length", 0))) or b"{}")
        inputs = payload.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        auth = h.headers.get("Authorization", "")
        with self._lock:
            if auth != f"Bearer {self.api_key}":
                fault: tuple | None = ("401",)
            else:
                fault = self.faults.popleft() if self.faults else None
            slow = self.slow_after is not None and self.served >= self.slow_after[0]
            req = Request(inputs, payload.get("model", ""), payload.get("dimensions"), payload.get("encoding_format"), 0, auth)
            self.requests.append(req)
        self.received.set()
        if fault is not None:
            kind = fault[0]
            if kind == "429":
                return self._error(h, req, 429, "rate limited", {"Retry-After": str(fault[1])})
            if kind in ("500", "503"):
                return self._error(h, req, int(kind), "server error")
            if kind == "401":
                return self._error(h, req, 401, "Incorrect API key provided")
            if kind == "badjson":
                return self._send(h, req, 200, logged=299, body=b'{"object": "list", "data": [ this is not json')
            if kind == "truncated":
                body = self._body(payload, inputs)
                return self._send(h, req, 200, body[: len(body) // 2], logged=299)
            if kind == "slow":
                if self._stop.wait(fault[1]):
                    return None
        if slow and self._stop.wait(self.slow_after[1]):  # type: ignore[index]
            return None
        if not inputs or any(not isinstance(t, str) or not t for t in inputs):
            return self._error(h, req, 400, "'$.input' is invalid: empty strings are not allowed")
        with self._lock:
            self.served += 1
        return self._send(h, req, 200, self._body(payload, inputs))

    def _body(self, payload: dict, inputs: list[str]) -> bytes:
        dim = int(payload.get("dimensions") or self.dim)
        as_b64 = payload.get("encoding_format") == "base64" and not self.ignore_format
        data = []
        for i, text in enumerate(inputs):
            v = fake_vector(text, dim)
            emb = base64.b64encode(v.tobytes()).decode() if as_b64 else [float(x) for x in v]
            data.append({"object": "embedding", "index": i, "embedding": emb})
        n_tok = sum(len(t.split()) for t in inputs)
        return json.dumps(
            {"object": "list", "data": data, "model": payload.get("model", ""), "usage": {"prompt_tokens": n_tok, "total_tokens": n_tok}}
        ).encode()


if __name__ == "__main__":  # manual use: python tests/openai_server.py
    with FakeOpenAI() as srv:
        print(srv.base_url, flush=True)
        while True:
            time.sleep(3600)


def kill_when_stalled(srv, proc, k: int, *, timeout: float) -> None:
    """SIGKILL ``proc`` once it has sent request ``k + 1`` to ``srv`` (which stalls after ``k``)."""
    import signal
    import time

    try:
        deadline = time.monotonic() + timeout
        while len(srv.requests) <= k:  # request k+1 is hanging on the stalled server
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the job never reached the stalled request"
            srv.received.wait(0.2)
            srv.received.clear()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
