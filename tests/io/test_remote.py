"""Remote NWB (issue 11 item 4): http(s) URLs read by ranged requests from a local server on 127.0.0.1.

The server below honours ``Range`` (206 + Content-Range) and counts the body bytes it sends, so the client's
own count (:func:`neurolearn.io.remote.bytes_fetched`) is checked against an independent one. Every read is
compared with the local read of the same file.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import socket
import threading
from collections import defaultdict
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("remfile")

from neurolearn.errors import NWBError  # noqa: E402
from neurolearn.io import read_nwb, read_sessions  # noqa: E402
from neurolearn.io import remote  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"
ASSET_ID = "0a1b2c3d-0000-4000-8000-000000000001"
DANDI_PATH = "sub-rich/sub-rich_ses-day00.nwb"


class _Handler(BaseHTTPRequestHandler):
    """Files under ``/files/`` with Range support; ``/norange/`` ignores Range; ``/forbidden/`` is 403;
    ``/api/...`` imitates the two DANDI API endpoints the reader uses."""

    protocol_version = "HTTP/1.1"
    # headers and body in one segment, sent at once: with the default unbuffered small writes, Nagle's
    # algorithm and the client's delayed ACK stall each response by ~40 ms, which no real file server does
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/forbidden/"):
            return self._status(403, "Forbidden")
        if path == f"/api/assets/{ASSET_ID}/download/":
            return self._redirect("/files/day00.nwb")
        if re.fullmatch(r"/api/dandisets/000123/versions/draft/assets/", path):
            wanted = parse_qs(parts.query).get("path", [""])[0]
            results = [{"asset_id": ASSET_ID, "path": DANDI_PATH}] if DANDI_PATH.startswith(wanted) else []
            return self._body(200, json.dumps({"count": len(results), "results": results}).encode(),
                              "application/json")
        for prefix, ranges in (("/files/", True), ("/norange/", False), ("/wrongbytes/", "from zero")):
            if path.startswith(prefix):
                return self._file(path[len(prefix):], ranges)
        return self._status(404, "Not Found")

    def _status(self, code, reason):
        self._body(code, f"{code} {reason}".encode(), "text/plain")

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self, code, body, kind, headers=()):
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client stopped reading (the probe of a server that ignores Range)
        self.server.sent[self.path.split("?")[0]] += len(body)

    def _file(self, name, ranges):
        target = self.server.root / name
        if not target.is_file():
            return self._status(404, "Not Found")
        data = target.read_bytes()
        stat = target.stat()
        headers = [("ETag", f'"{stat.st_mtime_ns}-{stat.st_size}"'),
                   ("Last-Modified", formatdate(stat.st_mtime, usegmt=True)), ("Accept-Ranges", "bytes")]
        kind = "application/x-hdf5" if name.endswith(".nwb") else "text/html"
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if not ranges or wanted is None:
            return self._body(200, data, kind, headers)
        start = int(wanted.group(1))
        if ranges == "from zero":  # a broken server or proxy: every range answered from byte 0, and says so
            wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", f"bytes=0-{int(wanted.group(2) or len(data)) - start}")
            start = 0
        stop = min(int(wanted.group(2)) if wanted.group(2) else len(data) - 1, len(data) - 1)
        if start >= len(data):
            return self._body(416, b"", kind, headers + [("Content-Range", f"bytes */{len(data)}")])
        headers.append(("Content-Range", f"bytes {start}-{stop}/{len(data)}"))
        self._body(206, data[start:stop + 1], kind, headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    for day in ("day00", "day01"):
        shutil.copy(DATA / "rich" / f"{day}.nwb", root / f"{day}.nwb")
    shutil.copy(DATA / "overtraining" / "day00.nwb", root / "ophys00.nwb")
    (root / "page.html").write_text("<html><body>not a file</body></html>" * 100)
    (root / "empty.nwb").write_bytes(b"")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.root = root
    httpd.sent = defaultdict(int)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _same(remote_rec: xr.DataArray, local_rec: xr.DataArray, url: str, differ=("source_file",)) -> None:
    xr.testing.assert_identical(remote_rec.drop_attrs(), local_rec.drop_attrs())
    assert remote_rec.attrs["source_file"] == url
    assert {k: v for k, v in remote_rec.attrs.items() if k not in differ} == {
        k: v for k, v in local_rec.attrs.items() if k not in differ
    }


def test_url_read_equals_local_and_fetches_part_of_the_file(server):
    url = f"{server.base}/files/day00.nwb"
    remote.reset_bytes_fetched()
    server.sent.clear()
    got = read_nwb(url, window=(0.0, 0.25))
    _same(got, read_nwb(server.root / "day00.nwb", window=(0.0, 0.25)), url)
    fetched, size = remote.bytes_fetched(url), (server.root / "day00.nwb").stat().st_size
    # the client's count is the server's: every body byte sent was received and counted once
    assert fetched == server.sent["/files/day00.nwb"]
    # measured 0.64 of the 437 kB file (spike_times is 0.52 of it; the cached schema is never read)
    assert 0.3 * size < fetched < 0.8 * size
    assert remote.requests_made(url) >= 2


def test_lazy_url_blocks_reopen_by_url(server):
    url = f"{server.base}/files/day01.nwb"
    local = read_nwb(server.root / "day01.nwb")
    lazy = read_nwb(url, chunks={"trial": -1, "neuron": 10})
    assert lazy.attrs["source_file"] == url
    pickle.dumps(lazy.data.dask)  # the graph holds the URL and the plan, no open handle
    remote.reset_bytes_fetched(url)
    first = lazy.isel(neuron=slice(0, 10)).values
    one_block = remote.bytes_fetched(url)
    np.testing.assert_array_equal(first, local.isel(neuron=slice(0, 10)).values)
    np.testing.assert_array_equal(lazy.values, local.values)
    size = (server.root / "day01.nwb").stat().st_size
    # measured 0.61: these files store spike_times as ONE HDF5 chunk (226 kB), which libhdf5 reads whole
    # for any unit; what is never fetched is the cached schema and the other tables' data
    assert 0.3 * size < one_block < 0.8 * size


def test_lazy_url_refuses_a_file_changed_on_the_server(server):
    name = "changing.nwb"
    shutil.copy(server.root / "day00.nwb", server.root / name)
    lazy = read_nwb(f"{server.base}/files/{name}", chunks=40)
    with open(server.root / name, "ab") as handle:
        handle.write(b"\0" * 1024)
    with pytest.raises(NWBError, match="changed since it was opened"):
        lazy.values


def test_read_sessions_over_urls_equals_local(server):
    urls = [f"{server.base}/files/day01.nwb", f"{server.base}/files/day00.nwb?token=a*b"]  # '*': no glob
    tree = read_sessions(urls, tracked=True)
    local = read_sessions([server.root / "day01.nwb", server.root / "day00.nwb"], tracked=True)
    assert list(tree.children) == list(local.children)
    for name in tree.children:
        xr.testing.assert_identical(tree[name].responses.drop_attrs(), local[name].responses.drop_attrs())
    assert sorted(tree[n].responses.attrs["source_file"] for n in tree.children) == sorted(urls)
    one = read_sessions(urls[1], tracked=True)
    assert one[list(one.children)[0]].responses.attrs["source_file"] == urls[1]


def test_series_over_url_equals_local(server):
    url = f"{server.base}/files/ophys00.nwb"
    _same(read_nwb(url, window=(0.0, 0.5)), read_nwb(server.root / "ophys00.nwb", window=(0.0, 0.5)), url)


def test_dandi_asset_url_follows_the_redirect(server):
    url = f"{server.base}/api/assets/{ASSET_ID}/download/"
    _same(read_nwb(url), read_nwb(server.root / "day00.nwb"), url)


def test_dandi_scheme_resolves_through_the_api(server, monkeypatch):
    monkeypatch.setattr(remote, "DANDI_API", f"{server.base}/api")
    url = f"dandi://dandi/000123/{DANDI_PATH}"
    assert remote.resolve_dandi(url) == f"{server.base}/api/assets/{ASSET_ID}/download/"
    got = read_nwb(url)
    _same(got, read_nwb(server.root / "day00.nwb"), url, differ=("source_file", "subject_id"))
    assert got.attrs["subject_id"] == "rich"  # the sub-<label> of the DANDI path, as for a local file
    with pytest.raises(NWBError, match="has no asset 'sub-rich/other.nwb'"):
        read_nwb("dandi://dandi/000123/sub-rich/other.nwb")
    with pytest.raises(NWBError, match="only the main archive"):
        read_nwb("dandi://ember/000123/x.nwb")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/files/missing.nwb", r"HTTP 404 Not Found \(no such file"),
        ("/forbidden/day00.nwb", r"HTTP 403 Forbidden \(access denied"),
        ("/norange/day00.nwb", r"does not honour HTTP Range requests .*{size:,} bytes"),
        ("/files/page.html", r"without an HDF5 signature \(text/html"),
        ("/norange/page.html", r"without an HDF5 signature"),
        ("/files/empty.nwb", r"empty file \(0 bytes\)"),
    ],
)
def test_http_failures_are_nwb_errors_naming_the_url(server, path, message):
    url = f"{server.base}{path}"
    message = message.replace("{size:,}", f"{(server.root / 'day00.nwb').stat().st_size:,}")
    with pytest.raises(NWBError, match=re.escape(url) + ".*" + message):
        read_nwb(url)


def test_unreachable_host_is_an_nwb_error(server):
    url = f"http://127.0.0.1:{_closed_port()}/day00.nwb"
    with pytest.raises(NWBError, match=re.escape(url) + ": cannot reach the server"):
        read_sessions([url])


def test_url_helpers():
    assert remote.is_url("HTTPS://x/y.nwb") and remote.is_url("dandi://dandi/000006/a.nwb")
    assert not remote.is_url(Path("http.nwb")) and not remote.is_url("data/day00.nwb")
    assert remote.url_name("https://h/api/assets/abc/download/") == "abc"
    assert remote.file_stem("https://h/a/day03.nwb?x=1") == "day03"
    with pytest.raises(NWBError, match="naming one NWB file"):
        remote.resolve_dandi("dandi://dandi/000006/sub-1/")


def test_lazy_url_blocks_compute_in_other_processes(server):
    url = f"{server.base}/files/day00.nwb"
    lazy = read_nwb(url, chunks={"trial": 32, "neuron": 40})
    got = lazy.data.compute(scheduler="processes", num_workers=2)  # each task reopens the URL there
    np.testing.assert_array_equal(got, read_nwb(server.root / "day00.nwb").values)


def test_read_sessions_timeout_reads_a_url_in_a_child_process(server):
    url = f"{server.base}/files/day01.nwb"
    tree = read_sessions([url], timeout=60, tracked=True)
    (name,) = tree.children
    xr.testing.assert_identical(tree[name].responses, read_sessions([url], tracked=True)[name].responses)


def test_a_server_that_answers_other_bytes_than_asked_is_named_not_called_file_damage(server):
    # the probe (bytes 0-...) is answered right; every later range comes from byte 0 with a Content-Range that
    # says so: h5py would read those bytes as the file's, so the reader refuses and names the server's fault
    url = f"{server.base}/wrongbytes/day00.nwb"
    with pytest.raises(NWBError, match=r"answered another byte range than the one asked for \(asked bytes=\d+"):
        read_nwb(url)
