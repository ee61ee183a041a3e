"""Connections the server opens on a subscriber's behalf (§15): event pushes, ping and telnet.

A callback URL is http or https. Its host is resolved here and every address it resolves to must
be a public one: loopback, private, link-local (cloud metadata at 169.254.169.254 among them),
shared, multicast and reserved addresses are refused, at subscribe time and again before each
connection, and the connection goes to the address that was checked (no second lookup that a
DNS answer could change in between). PROC_EVENT_ALLOW_PRIVATE_CALLBACKS=1 lifts the address
rule (the tests' callback servers listen on loopback). Redirects are never followed; an answer
is read up to RESPONSE_CAP bytes."""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ApiError

RESPONSE_CAP = 64 * 1024
URL_MAX = 2048
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class Refused(Exception):
    """A callback URL the rules refuse, or a connection that failed: its reason."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


def allow_private() -> bool:
    return os.environ.get("PROC_EVENT_ALLOW_PRIVATE_CALLBACKS") == "1"


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and address not in METADATA and not address.is_multicast


def resolve(url: str, schemes=("http", "https")) -> Target:
    """The URL's parts and the address to connect to, or Refused."""
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        raise Refused("not a URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("not a URL") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise Refused(f"scheme must be {' or '.join(schemes)}")
    if parts.username or parts.password:
        raise Refused("credentials in the URL")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused("host does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise Refused("host does not resolve")
    if not allow_private() and not all(public(a) for a in addresses):
        raise Refused("address not allowed (loopback, private, link-local or metadata)")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def checked(url: str, field: str = "callback_url") -> Target:
    """resolve() for a request: a refusal is 400 / 1199006 naming the field."""
    try:
        return resolve(url)
    except Refused:
        raise ApiError(1199006, field) from None


def _connected(address: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # as http.client's own connect: without it, a kept-alive connection waits for the peer's
    # delayed ACK (40 ms) before each request's last segment
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Pinned(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = _connected(self._address, self.port, self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = _connected(self._address, self.port, self.timeout)
        # SNI and certificate checks against the URL's host name, not the address
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Sender:
    """POSTs to callback URLs over one kept-alive connection, made again when the URL's checked
    address or the URL changes; every post checks the URL and its address first."""

    def __init__(self) -> None:
        self._conn: http.client.HTTPConnection | None = None
        self._key: tuple | None = None

    def post(self, url: str, body: bytes, timeout: float) -> tuple[int, str]:
        """The status and up to RESPONSE_CAP bytes of the answer; Refused for a URL the rules
        refuse or a connection that fails or times out."""
        target = resolve(url)
        key = (target.scheme, target.host, target.port, target.address)
        reused = self._conn is not None and self._key == key
        if not reused:
            self.close()
            kind = _PinnedTLS if target.scheme == "https" else _Pinned
            self._conn, self._key = kind(target, timeout), key
        self._conn.timeout = timeout
        try:
            return self._exchange(target, body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise Refused("the connection closed before an answer") from None
            # a kept-alive connection the subscriber had closed: once more on a new one
            return self.post(url, body, timeout)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Refused(f"{type(exc).__name__}: {exc}"[:200]) from None

    def _exchange(self, target: Target, body: bytes) -> tuple[int, str]:
        self._conn.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "proc-service-events"},
        )
        resp = self._conn.getresponse()
        answer = resp.read(RESPONSE_CAP)
        if resp.will_close or not resp.isclosed():  # closed by the peer, or not read to its end
            self.close()
        return resp.status, answer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._key = None, None


def post(url: str, body: bytes, timeout: float) -> tuple[int, str]:
    """One POST on a connection of its own (ping)."""
    sender = Sender()
    try:
        return sender.post(url, body, timeout)
    finally:
        sender.close()


def telnet(url: str, timeout: float) -> None:
    """Open (and close) a TCP connection to the URL's host and port; Refused if it fails."""
    target = resolve(url)
    try:
        socket.create_connection((target.address, target.port), timeout).close()
    except OSError as exc:
        raise Refused(f"{type(exc).__name__}: {exc}"[:200]) from None
