"""Stream an external recording (not presignable) through the server, safely.

Only http(s) URLs on PROXY_ALLOWED_HOSTS, only public addresses (unless
PROXY_ALLOW_PRIVATE_ADDRESSES), connecting to the address we checked so DNS
cannot change under us, no redirects, timeouts, and chunks: never the whole body.
"""
import ipaddress
import socket
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import HTTPError

from webapp.errors import ApiError

CHUNK = 256 * 1024
# Never the upstream's Content-Type: the proxy answers with a media type of our choosing.
PASSED_HEADERS = ("Content-Length", "Content-Range", "ETag", "Last-Modified")
MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"}
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # Matroska / WebM
# IPv6 forms that carry an IPv4 address a packet may end up at (RFC 6052, 3056, 4380, 4291).
NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
TEREDO = ipaddress.ip_network("2001::/32")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


@dataclass
class Upstream:
    status: int
    headers: dict
    body: Iterator[bytes]


def _refuse(message):
    return ApiError(502, "upstream_refused", message)


def looks_like_media(head):
    """Whether the first bytes of a file are those of an MP4/M4A/MOV or a Matroska/WebM file."""
    return head[4:8] in MP4_BOXES or head.startswith(EBML_MAGIC)


def _check_address(address, allow_private):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if allow_private:
        return ip
    if isinstance(ip, ipaddress.IPv6Address) and _embeds_ipv4(ip):
        # Translated or tunnelled to an IPv4 address that the checks below would never see.
        raise _refuse("The recording's host resolves to an IPv6 address that embeds an IPv4 one.")
    if not ip.is_global or ip.is_multicast:
        raise _refuse("The recording's host resolves to a private address.")
    return ip


def _embeds_ipv4(ip):
    return (any(ip in network for network in NAT64_NETWORKS) or ip in SIX_TO_FOUR or ip in TEREDO
            or ip in IPV4_COMPATIBLE)


def resolve_allowed(url, allowed_hosts, allow_private):
    """(scheme, host, port, ip, path) for a URL the proxy may fetch; ApiError(502) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse("The recording's URL is not http or https.")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse("The recording's URL has a bad port.") from None
    if host not in allowed_hosts and f"{host}:{port}" not in allowed_hosts:
        raise _refuse(f"The host {host} is not in PROXY_ALLOWED_HOSTS.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ApiError(502, "upstream_unreachable", f"The host {host} cannot be resolved.") from None
    addresses = [_check_address(info[4][0], allow_private) for info in infos]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port, str(addresses[0]), path


class GuardedUpstream:
    """One external URL, checked once (allow-list, public address) and then always reached at that
    pinned address; `get()` may be called many times and reuses its connections (keep-alive)."""

    def __init__(self, url, *, allowed_hosts, allow_private=False, connect_timeout=5.0, read_timeout=30.0,
                 connections=1):
        scheme, self.host, port, ip, self.path = resolve_allowed(url, allowed_hosts, allow_private)
        timeout = Timeout(connect=connect_timeout, read=read_timeout)
        if scheme == "https":
            self.pool = HTTPSConnectionPool(ip, port, timeout=timeout, retries=False, maxsize=connections,
                                            server_hostname=self.host, assert_hostname=self.host,
                                            cert_reqs="CERT_REQUIRED")
        else:
            self.pool = HTTPConnectionPool(ip, port, timeout=timeout, retries=False, maxsize=connections)
        default_port = 443 if scheme == "https" else 80
        self.host_header = self.host if port == default_port else f"{self.host}:{port}"

    def get(self, range_header=None, if_range=None, *, close_after=False):
        """Start a GET; an Upstream whose body streams in chunks (the connection goes back when it ends)."""
        headers = {"Host": self.host_header, "User-Agent": "Reclip/1.0", "Accept-Encoding": "identity"}
        if range_header:
            headers["Range"] = range_header
            if if_range:
                headers["If-Range"] = if_range
        try:
            response = self.pool.urlopen("GET", self.path, headers=headers, redirect=False, retries=False,
                                         preload_content=False, assert_same_host=False)
        except HTTPError as exc:
            self.close()
            raise ApiError(502, "upstream_unreachable",
                           f"The recording's host did not answer ({exc.__class__.__name__}).") from None
        done = self.close if close_after else (lambda: None)
        if 300 <= response.status < 400:
            _finish(response, done)
            raise _refuse("The recording's host answered with a redirect, which is not followed.")
        if response.status == 416:
            _finish(response, done)
            raise ApiError(416, "range_not_satisfiable", "The requested range is outside the file.")
        if response.status not in (200, 206):
            _finish(response, done)
            raise ApiError(502, "upstream_error", f"The recording's host answered {response.status}.")
        headers = {name: response.headers[name] for name in PASSED_HEADERS if name in response.headers}
        return Upstream(response.status, headers, _stream(response, done))

    def close(self):
        self.pool.close()


def open_upstream(url, *, allowed_hosts, allow_private=False, range_header=None, if_range=None,
                  connect_timeout=5.0, read_timeout=30.0):
    """One GET of an external recording (its connection closed at the end); an Upstream."""
    upstream = GuardedUpstream(url, allowed_hosts=allowed_hosts, allow_private=allow_private,
                               connect_timeout=connect_timeout, read_timeout=read_timeout)
    return upstream.get(range_header, if_range, close_after=True)


def _stream(response, done):
    try:
        yield from response.stream(CHUNK, decode_content=False)
    except HTTPError:
        # Headers are sent by now; ending the body early is the only signal left.
        return
    finally:
        _finish(response, done)


def _finish(response, done):
    """A body read to its end goes back to the pool for the next request; one cut short is dropped."""
    if response.isclosed() or response.length_remaining == 0:
        response.release_conn()
    else:
        response.drain_conn() if (response.length_remaining or 0) <= 64 * 1024 else response.close()
        response.release_conn()
    done()
