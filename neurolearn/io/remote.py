"""Remote NWB files: ``http(s)://`` URLs read with HTTP range requests, DANDI asset URLs and ``dandi://``.

A URL is opened read-only as a file-like object (:class:`remfile.File`, from the optional extra
``pip install neurolearn[remote]``) handed to ``h5py.File(fileobj, "r")``, so only the byte ranges h5py asks
for are fetched: the superblock, the B-trees and headers on the way to the Units table or series, and the
datasets read. remfile was chosen over fsspec + aiohttp because it is one small synchronous package made for
h5py (read-ahead that grows on sequential reads, retries with back-off, DANDI's presigned S3 redirects),
where fsspec's HTTP file system needs an asyncio stack (aiohttp and its event loop thread) for the same ranged
GETs.

Before h5py sees the file, one small ranged GET (:func:`probe`) follows redirects and turns what would
otherwise surface as an h5py ``OSError`` or a long retry loop into an :class:`~neurolearn.errors.NWBError`
naming the URL: an unreachable host, HTTP errors (404, 403, ...), a server that ignores ``Range`` (refused:
every open would download the whole file, whose size the message gives), a response without an HDF5
signature, an empty file.

DANDI: ``https://api.dandiarchive.org/api/assets/<asset_id>/download/`` is an ordinary URL that redirects to
S3; it is followed once per open and the S3 URL is read. ``dandi://dandi/<dandiset>[@<version>]/<path>``
(dandi-cli's resource form; version ``draft`` by default) is resolved to that download URL with one query
of the DANDI API (:data:`DANDI_API`); other instances and whole-dandiset URLs are refused.

Lazy (``chunks=``) arrays keep the URL, never an open handle: each dask task probes and opens it again, and
refuses to read when the server's validator (ETag, else Last-Modified) or size changed since planning.
Bytes fetched are counted per URL as given, in this process (:func:`bytes_fetched`); tasks run by other
processes count in those processes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from neurolearn.errors import NWBError

__all__ = [
    "is_url",
    "probe",
    "open_remote",
    "open_hdf5",
    "remote_stamp",
    "source_name",
    "url_name",
    "file_stem",
    "resolve_dandi",
    "bytes_fetched",
    "requests_made",
    "reset_bytes_fetched",
    "DANDI_API",
    "TIMEOUT",
]

_SCHEMES = ("http://", "https://", "dandi://")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SIGNATURE_OFFSETS = (0, 512, 1024, 2048)  # where libhdf5 looks for the superblock (after a user block)
_PROBE_BYTES = _SIGNATURE_OFFSETS[-1] + len(_HDF5_SIGNATURE)

#: (connect, read) seconds for each request; remfile's own requests get the same limits.
TIMEOUT = (10.0, 60.0)
#: The DANDI API that ``dandi://dandi/...`` URLs are resolved against.
DANDI_API = "https://api.dandiarchive.org/api"

# remfile fetches in multiples of this; small files get smaller pieces so that a read of part of a file does
# not fetch most of it, large ones remfile's default (one request costs ~50-100 ms on S3)
_MIN_CHUNK, _MAX_CHUNK = 16 * 1024, 100 * 1024

_counts: dict[str, list[int]] = {}
_counts_lock = threading.Lock()
_open_here = threading.local()  # stamps of the URLs this thread has open: the file being read, not a newer one


def is_url(path) -> bool:
    """Whether ``path`` is a URL this package reads remotely (``http://``, ``https://``, ``dandi://``).

    Examples
    --------
    >>> is_url("https://api.dandiarchive.org/api/assets/abc/download/"), is_url("data/rich/day00.nwb")
    (True, False)
    """
    return isinstance(path, str) and path[:8].lower().startswith(_SCHEMES)


def url_name(url: str) -> str:
    """The last non-empty path segment of ``url`` (``".../day00.nwb?x=1"`` -> ``"day00.nwb"``).

    Examples
    --------
    >>> url_name("http://127.0.0.1:8000/data/day00.nwb"), url_name("https://host/api/assets/ab12/download/")
    ('day00.nwb', 'ab12')
    """
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    if parts and parts[-1] == "download" and len(parts) >= 2:
        return parts[-2]  # a DANDI asset URL is named by its asset id, not by "download"
    return parts[-1] if parts else urlsplit(url).netloc


def source_name(path: str) -> str:
    """What ``source_file`` records: a URL as given, a local path made absolute.

    Examples
    --------
    >>> source_name("https://host/day00.nwb")
    'https://host/day00.nwb'
    """
    return path if is_url(path) else str(Path(path).resolve())


# --- counting -----------------------------------------------------------------------------------------------


def _count(url: str, n_bytes: int) -> None:
    with _counts_lock:
        entry = _counts.setdefault(url, [0, 0])
        entry[0] += int(n_bytes)
        entry[1] += 1


def bytes_fetched(url: str | None = None) -> int:
    """Bytes of response bodies fetched for ``url`` (as given to the reader) in this process; all URLs if None.

    Examples
    --------
    >>> reset_bytes_fetched(); bytes_fetched("https://host/never-read.nwb")
    0
    """
    with _counts_lock:
        if url is None:
            return sum(entry[0] for entry in _counts.values())
        return _counts.get(url, [0, 0])[0]


def requests_made(url: str | None = None) -> int:
    """HTTP requests made for ``url`` in this process (all URLs if None): probes and ranged reads."""
    with _counts_lock:
        if url is None:
            return sum(entry[1] for entry in _counts.values())
        return _counts.get(url, [0, 0])[1]


def reset_bytes_fetched(url: str | None = None) -> None:
    """Start counting ``url`` (or every URL) from zero."""
    with _counts_lock:
        if url is None:
            _counts.clear()
        else:
            _counts.pop(url, None)


# --- probing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    """A URL as given, what it resolved to (redirects followed), its size and validator."""

    url: str
    resolved: str
    size: int
    stamp: tuple


def _requests():
    try:
        import remfile  # noqa: F401  (checked here so the message names the extra, not requests)
        import requests
    except ImportError as error:
        raise NWBError(
            f"reading NWB files from URLs needs the optional extra: pip install 'neurolearn[remote]' ({error})"
        ) from error
    return requests


def _session(url: str):
    """A requests session whose every request has :data:`TIMEOUT` and whose response bodies are counted."""
    requests = _requests()

    class _Session(requests.Session):
        def request(self, method, target, **kwargs):
            kwargs.setdefault("timeout", TIMEOUT)
            return super().request(method, target, **kwargs)

    session = _Session()

    def count(response, *args, **kwargs):
        if not kwargs.get("stream", False):
            _count(url, len(response.content))

    session.hooks["response"].append(count)
    session.hooks["response"].append(_check_range)
    return session


@functools.lru_cache(maxsize=1)
def _refusal():
    """NWBError that remfile also takes for a permanent HTTP error: it retries any other exception 8 times
    with backoff (25 s) before it gives up, which for a server that keeps answering the wrong bytes is only
    a wait. remfile's class is private; without it the error is a plain NWBError (and the wait stays)."""
    try:
        from remfile.RemFile import _PermanentHTTPError
    except ImportError:  # another remfile: retried, then raised all the same
        return NWBError
    return type("RangeRefusedError", (NWBError, _PermanentHTTPError), {"__module__": __name__})


def _check_range(response, *args, **kwargs):
    """Refuse a 206 answer whose Content-Range starts elsewhere than the Range asked for: h5py would read
    those bytes as the file's (a server or proxy that ignores the offset answers every request from byte 0)."""
    if response.status_code != 206:
        return
    asked = re.fullmatch(r"bytes=(\d+)-(\d*)", response.request.headers.get("Range", "") or "")
    given = re.match(r"bytes (\d+)-(\d+)/", response.headers.get("Content-Range", "") or "")
    if asked and given and int(given.group(1)) != int(asked.group(1)):
        raise _refusal()(
            f"{response.url}: the server answered another byte range than the one asked for (asked "
            f"{asked.group(0)}, answered {given.group(0).rstrip('/')}): it does not honour HTTP Range requests "
            "correctly, so the file cannot be read by ranges; download it and read the local copy")


def probe(url: str) -> Remote:
    """One ranged GET of the first bytes of ``url`` (redirects followed): its size, validator and final URL.

    Raises :class:`NWBError` naming ``url`` when the host cannot be reached, the server answers an HTTP error,
    ignores ``Range`` (a whole-file answer), gives no size, or the bytes are not HDF5.
    """
    requests = _requests()
    target = resolve_dandi(url) if url.lower().startswith("dandi://") else url
    session = _session(url)
    try:
        response = session.get(target, headers={"Range": f"bytes=0-{_PROBE_BYTES - 1}"}, stream=True,
                               allow_redirects=True)
    except requests.exceptions.Timeout as error:
        raise NWBError(f"{url}: no answer from the server within {TIMEOUT} s (connect, read) ({error})") from error
    except requests.exceptions.ConnectionError as error:
        raise NWBError(f"{url}: cannot reach the server ({_short(error)})") from error
    except requests.exceptions.RequestException as error:
        raise NWBError(f"{url}: expected an http(s) URL of an NWB file, found one that cannot be requested "
                       f"({type(error).__name__}: {error})") from error
    try:
        with response:
            return _judge(url, response, requests)
    finally:
        session.close()


def _judge(url: str, response, requests) -> Remote:
    status = response.status_code
    where = "" if response.url == url else f" (at {_host(response.url)} after redirects)"
    if status == 416:
        raise NWBError(f"{url}: expected an NWB (HDF5) file, found an empty file (0 bytes){where}")
    if status >= 400:
        raise NWBError(f"{url}: expected an NWB file, found HTTP {status} {response.reason}{where}"
                       f"{_HTTP_MEANING.get(status, '')}")
    try:
        head = response.raw.read(_PROBE_BYTES, decode_content=True) or b""
    except (requests.exceptions.RequestException, OSError) as error:
        raise NWBError(f"{url}: the connection broke while reading the first bytes ({_short(error)})") from error
    _count(url, len(head))
    if status == 200:
        size = response.headers.get("Content-Length")
        if not _has_signature(head):
            raise NWBError(_not_hdf5(url, response, head, where))
        cost = f"{int(size):,} bytes" if size and size.isdigit() else "of unknown size"
        raise NWBError(
            f"{url}: the server does not honour HTTP Range requests (it answered 200 with the whole file, "
            f"{cost}, instead of 206 with the bytes asked for){where}; h5py would download all of it on every "
            "open and every lazy block. Download it once and read the local copy"
        )
    if status != 206:
        raise NWBError(f"{url}: expected HTTP 206 Partial Content, found {status} {response.reason}{where}")
    size = _total_size(response.headers.get("Content-Range", ""))
    if size is None:
        raise NWBError(f"{url}: the server answered 206 without the file size (Content-Range "
                       f"{response.headers.get('Content-Range')!r}){where}; cannot read it by ranges")
    if size == 0:
        raise NWBError(f"{url}: expected an NWB (HDF5) file, found an empty file (0 bytes){where}")
    if not _has_signature(head):
        raise NWBError(_not_hdf5(url, response, head, where))
    validator = response.headers.get("ETag") or response.headers.get("Last-Modified") or ""
    return Remote(url=url, resolved=response.url, size=size, stamp=(validator, size))


_HTTP_MEANING = {
    401: " (the server needs credentials)",
    403: " (access denied: a private or embargoed asset, or a signed URL that has expired)",
    404: " (no such file on the server)",
}


def _has_signature(head: bytes) -> bool:
    return any(head[o:o + len(_HDF5_SIGNATURE)] == _HDF5_SIGNATURE for o in _SIGNATURE_OFFSETS)


def _not_hdf5(url, response, head: bytes, where: str) -> str:
    kind = response.headers.get("Content-Type", "no Content-Type")
    return (f"{url}: expected an NWB file (HDF5), found a response without an HDF5 signature ({kind}, "
            f"starting {head[:40]!r}){where}")


def _total_size(content_range: str):
    # "bytes 0-2055/437240"; "bytes 0-2055/*" (size unknown) gives None
    _, _, total = content_range.partition("/")
    return int(total) if total.strip().isdigit() else None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 300 else text[:300] + " ..."


def remote_stamp(url: str) -> tuple:
    """``(validator, size)`` of ``url``: what a lazy block compares before it reads.

    While this thread has ``url`` open (:func:`open_remote`), the stamp seen when it was opened, which is the
    one of the bytes being read and costs no request; otherwise a new probe.
    """
    stamps = getattr(_open_here, "stamps", {})
    if url in stamps:
        return stamps[url]
    return probe(url).stamp


# --- opening ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_remote(url: str):
    """Open ``url`` read-only with ranged reads; yield the :class:`h5py.File` (no NWB checks) and close it.

    Examples
    --------
    >>> with open_remote("http://127.0.0.1:9/none.nwb") as f:  # doctest: +ELLIPSIS
    ...     pass
    Traceback (most recent call last):
    ...
    neurolearn.errors.NWBError: http://127.0.0.1:9/none.nwb: cannot reach the server (...)
    """
    import h5py
    import remfile

    remote = probe(url)
    chunk = int(min(_MAX_CHUNK, max(_MIN_CHUNK, remote.size // 32)))
    fileobj = remfile.File(remote.resolved, _size=remote.size, _min_chunk_size=chunk)
    fileobj.session.close()
    fileobj.session = _session(url)  # counted, and with timeouts (remfile sets none)
    try:
        try:
            handle = h5py.File(fileobj, "r")
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            raise NWBError(f"{url}: expected a readable HDF5 file, found a damaged or truncated one, or the "
                           f"connection failed while reading it ({_short(error)})") from error
        stamps = _open_here.__dict__.setdefault("stamps", {})
        outer = stamps.get(url)
        stamps[url] = remote.stamp
        try:
            yield handle
        finally:
            handle.close()
            if outer is None:
                stamps.pop(url, None)
            else:
                stamps[url] = outer
    finally:
        fileobj.session.close()


@contextlib.contextmanager
def open_hdf5(path: str):
    """``h5py.File(path, "r")`` for a local path, :func:`open_remote` for a URL (what lazy blocks reopen)."""
    if is_url(path):
        with open_remote(path) as handle:
            yield handle
        return
    import h5py

    with h5py.File(path, "r") as handle:
        yield handle


# --- DANDI --------------------------------------------------------------------------------------------------


def resolve_dandi(url: str) -> str:
    """The download URL of ``dandi://dandi/<dandiset>[@<version>]/<asset path>`` (one DANDI API query).

    Examples
    --------
    >>> resolve_dandi("dandi://dandi/000006")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.NWBError: dandi://dandi/000006: expected dandi://dandi/<dandiset>[@<version>]/<asset ...
    """
    requests = _requests()
    rest = url[len("dandi://"):]
    instance, _, rest = rest.partition("/")
    dandiset, _, path = rest.partition("/")
    dandiset, _, version = dandiset.partition("@")
    form = "dandi://dandi/<dandiset>[@<version>]/<asset path>"
    if instance.lower() != "dandi":
        raise NWBError(f"{url}: expected {form}; only the main archive ('dandi') is known, found {instance!r}; "
                       "pass the asset's https download URL instead")
    if not dandiset.isdigit() or not path or path.endswith("/"):
        raise NWBError(f"{url}: expected {form} naming one NWB file (a folder or whole dandiset is not read)")
    version = version or "draft"
    query = f"{DANDI_API}/dandisets/{dandiset}/versions/{version}/assets/"
    session = _session(url)
    try:
        response = session.get(query, params={"path": path, "metadata": "false", "page_size": 100})
        if response.status_code >= 400:
            raise NWBError(f"{url}: the DANDI API answered HTTP {response.status_code} {response.reason} for "
                           f"dandiset {dandiset} version {version}{_HTTP_MEANING.get(response.status_code, '')}")
        listing = response.json()
    except requests.exceptions.RequestException as error:
        raise NWBError(f"{url}: cannot reach the DANDI API at {_host(DANDI_API)} ({_short(error)})") from error
    except ValueError as error:
        raise NWBError(f"{url}: the DANDI API answered something that is not JSON ({error})") from error
    finally:
        session.close()
    matches = [a for a in listing.get("results", []) if a.get("path") == path]
    if not matches:
        near = [a.get("path") for a in listing.get("results", [])][:5]
        raise NWBError(f"{url}: dandiset {dandiset} version {version} has no asset {path!r}"
                       f"{f'; paths starting so: {near}' if near else ''}")
    return f"{DANDI_API}/assets/{matches[0]['asset_id']}/download/"


def file_stem(path) -> str:
    """File stem of a local path or of a URL's last segment (``".../day00.nwb"`` -> ``"day00"``)."""
    text = os.fspath(path)
    return PurePosixPath(url_name(text)).stem if is_url(text) else Path(text).stem
