"""Remote NWB reads (issue 11 item 4): local vs ``http://`` read time and bytes fetched, in the same run.

Serves a temporary folder from a threaded HTTP server on 127.0.0.1 that honours Range requests (206 +
Content-Range) and counts the body bytes it sends; ``--latency`` adds a delay to every request to imitate an
archive (S3 answers a ranged GET in ~20-100 ms). Files: ``data/rich/day00.nwb`` (80 units, 437 kB),
``data/real/`` (35 real units, 2 MB) and a generated session (300 units, 2,000 trials, ~2 M spikes). For each:

* eager ``read_nwb``: local time, remote time and their ratio; bytes fetched / file size; requests;
* ``chunks=`` and one block of 1/10 of the units computed: bytes fetched for that block / file size.

Each time is the best of ``--repeats`` runs, local and remote alternately. Run with::

    .venv/bin/python benchmarks/bench_remote.py [--latency 0.03] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import tempfile
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import xarray as xr

from neurolearn.io import read_nwb, remote
from neurolearn.simulate.nwb import write_recording_nwb

DATA = Path(__file__).resolve().parents[1] / "data"


class RangeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body in one segment, sent at once: with the default unbuffered small writes, Nagle's
    # algorithm and the client's delayed ACK stall each response by ~40 ms, which no real file server does
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        time.sleep(self.server.latency)
        target = self.server.root / self.path.lstrip("/")
        if not target.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        total = target.stat().st_size
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        start, stop, code = 0, total - 1, 200
        if wanted is not None:
            start = int(wanted.group(1))
            stop, code = min(int(wanted.group(2) or total - 1), total - 1), 206
        with open(target, "rb") as handle:  # only the range, as a file server would
            handle.seek(start)
            body = handle.read(stop - start + 1)
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{target.stat().st_mtime_ns}"')
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{stop}/{total}")
        self.end_headers()
        try:
            self.wfile.write(body)
            with self.server.sent.get_lock():
                self.server.sent.value += len(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve(folder: Path, latency: float, sent, port) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    server.root, server.latency, server.sent = folder, latency, sent
    port.value = server.server_address[1]
    server.serve_forever()


def generated_session(folder: Path) -> Path:
    rng = np.random.default_rng(11)
    counts = rng.poisson(rng.gamma(4.0, 0.8, size=(1, 300)), size=(2000, 300))
    recording = xr.DataArray(counts, dims=("trial", "neuron"), attrs={"window": (0.0, 1.0), "session_id": "big"})
    return write_recording_nwb(recording, folder / "big.nwb", rng=rng, gap=0.5)


def best(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def measure(name: str, path: Path, url: str, options: dict, repeats: int, server) -> None:
    size = path.stat().st_size
    local_time, local = best(lambda: read_nwb(path, **options), repeats)
    remote.reset_bytes_fetched(url)
    sent_before = server.value
    remote_time, got = best(lambda: read_nwb(url, **options), repeats)
    fetched = remote.bytes_fetched(url) / repeats
    requests = remote.requests_made(url) / repeats
    assert (server.value - sent_before) == remote.bytes_fetched(url), "client and server counts differ"
    xr.testing.assert_identical(got.drop_attrs(), local.drop_attrs())
    n_neurons = local.sizes["neuron"]
    block = max(1, n_neurons // 10)
    lazy = read_nwb(url, chunks={"trial": -1, "neuron": block}, **options)
    remote.reset_bytes_fetched(url)
    part = lazy.isel(neuron=slice(0, block)).values
    block_fetched = remote.bytes_fetched(url)
    np.testing.assert_array_equal(part, local.isel(neuron=slice(0, block)).values)
    print(f"{name:<10} {size / 1e6:>8.2f} {local_time * 1e3:>9.1f} {remote_time * 1e3:>10.1f} "
          f"{remote_time / local_time:>7.1f}x {fetched / size:>9.2f} {requests:>6.0f} "
          f"{block_fetched / size:>11.2f} ({block}/{n_neurons} units)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    folder = Path(tempfile.mkdtemp(prefix="bench_remote_"))
    try:
        shutil.copy(DATA / "rich" / "day00.nwb", folder / "rich00.nwb")
        real = next((DATA / "real").glob("*.nwb"))
        shutil.copy(real, folder / "real.nwb")
        generated_session(folder)
        # the server runs in its own process, so that it does not share the reader's interpreter lock
        sent, port = multiprocessing.Value("q", 0), multiprocessing.Value("i", 0)
        child = multiprocessing.get_context("fork").Process(target=serve, args=(folder, args.latency, sent, port),
                                                            daemon=True)
        child.start()
        while port.value == 0:
            time.sleep(0.01)
        base = f"http://127.0.0.1:{port.value}"
        print(f"latency per request: {args.latency * 1e3:.0f} ms; best of {args.repeats}")
        print(f"{'file':<10} {'MB':>8} {'local ms':>9} {'remote ms':>10} {'ratio':>8} {'fetched':>9} "
              f"{'reqs':>6} {'1 block':>11}")
        cases = [
            ("rich00", "rich00.nwb", {"window": (0.0, 0.25)}),
            ("real", "real.nwb", {"trials": "recognition", "window": (0.0, 1.0)}),
            ("big", "big.nwb", {"window": (0.0, 1.0)}),
        ]
        for name, file, options in cases:
            measure(name, folder / file, f"{base}/{file}", options, args.repeats, sent)
        child.terminate()
        child.join(timeout=5)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("fetched = bytes of response bodies / file size per eager read; 1 block = the same for one lazy block")


if __name__ == "__main__":
    main()
