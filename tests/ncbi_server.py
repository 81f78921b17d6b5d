"""A real HTTP server on 127.0.0.1 that answers like NCBI E-utilities ``esummary.fcgi`` (db=gene, JSON).

Tests queue scripted answers (status, headers, body) that are served before normal ones, and
read back every request the server received.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Document summaries in NCBI's esummary JSON shape (fields trimmed to the ones that matter).
GENES = {
    "916": ("CD3E", "CD3 epsilon subunit of T-cell receptor complex", "IMD18, T3E, TCRE",
            "The protein encoded by this gene is the CD3-epsilon polypeptide, part of the T-cell receptor-CD3 complex."),
    "3630": ("INS", "insulin", "IDDM, IDDM1, IDDM2, ILPR, IRDN, MODY10, PNDM4",
             "This gene encodes insulin, a peptide hormone that plays a vital role in the regulation of carbohydrate and lipid metabolism."),
    "2641": ("GCG", "glucagon", "GLP1, GLP-1, GLP2, GRPP", "The protein encoded by this gene is actually a preproprotein that is cleaved into four distinct mature peptides."),
    "60": ("ACTB", "actin beta", "BRWS1, PS1TP5BP1", "This gene encodes one of six different actin proteins."),
    "6750": ("SST", "somatostatin", "SMST", "The hormone somatostatin has active 14 aa and 28 aa forms."),
    "5539": ("PPY", "pancreatic polypeptide", "PNP, PP", ""),
    "3880": ("KRT19", "keratin 19", "CK19, K19, K1CS", "The protein encoded by this gene is a member of the keratin family."),
}  # fmt: skip


def docsum(uid: str) -> dict:
    symbol, name, aliases, summary = GENES[uid]
    return {
        "uid": uid,
        "name": symbol,
        "description": name,
        "status": "",
        "currentid": "",
        "chromosome": "",
        "otheraliases": aliases,
        "otherdesignations": "",
        "nomenclaturesymbol": symbol,
        "nomenclaturename": name,
        "nomenclaturestatus": "Official",
        "summary": summary,
        "organism": {"scientificname": "Homo sapiens", "commonname": "human", "taxid": 9606},
    }


class FakeNCBI:
    """``with FakeNCBI() as ncbi: NCBIClient(ncbi.base_url, ...)``.

    Attributes
    ----------
    requests
        One dict per request received: ``method``, ``path``, ``params`` (query and form merged,
        first value of each), ``ids`` (the ``id`` list).
    script
        Answers to give before normal ones: ``(status, headers, body bytes, delay seconds)``.
    unknown
        Ids answered with an ``error`` entry, as NCBI does for ids it has no document for.
    """

    def __init__(self, genes: dict | None = None) -> None:
        self.genes = dict(GENES if genes is None else genes)
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict, bytes, float]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if self.command == "POST":
                    length = int(self.headers.get("Content-Length", 0))
                    params.update({k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()})
                ids = [i for i in params.get("id", "").split(",") if i]
                with outer._lock:
                    outer.requests.append({"method": self.command, "path": parts.path, "params": params, "ids": ids})
                    scripted = outer.script.pop(0) if outer.script else None
                if scripted is not None:
                    status, headers, body, delay = scripted
                    if delay:
                        time.sleep(delay)
                elif parts.path.endswith("/esummary.fcgi") and params.get("db") == "gene":
                    status, headers, body = 200, {"Content-Type": "application/json"}, outer.esummary(ids)
                else:
                    status, headers, body = 400, {"Content-Type": "text/plain"}, b"bad request"
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            do_GET = do_POST = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def esummary(self, ids: list[str]) -> bytes:
        result: dict = {"uids": ids}
        for uid in ids:
            result[uid] = docsum(uid) if uid in self.genes else {"uid": uid, "error": "cannot get document summary"}
        return json.dumps({"header": {"type": "esummary", "version": "0.3"}, "result": result}).encode()

    def push(self, status: int, body: bytes | str = b"", headers: dict | None = None, delay: float = 0.0) -> None:
        """Queue one scripted answer."""
        body = body.encode() if isinstance(body, str) else body
        self.script.append((status, headers or {"Content-Type": "application/json"}, body, delay))

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils"

    def __enter__(self) -> FakeNCBI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
