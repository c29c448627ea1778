"""Outbound HTTP that cannot be pointed inside (SSRF). Webhook URLs come from process specs,
and a URL naming this machine, the private network or the cloud metadata address
(169.254.169.254) would let whoever edits a spec reach what only the server can reach.

`check_url` refuses what the URL itself says (at save and publish; no DNS): schemes other
than http/https, user names or passwords, `localhost` and `*.localhost`, and literal
addresses that are not public, in any spelling (`127.1`, `2130706433`, `0x7f.1`, `[::1]`,
`[::ffff:127.0.0.1]`). `resolve` does the same and resolves the host, refusing when ANY
address is not public. `post` connects only to the addresses `resolve` checked (no second
lookup, so a DNS answer that changes in between cannot swap them), sends the URL's host in
Host and, for https, in SNI and the certificate check, follows no redirect, reads only the
status line and headers, and gives up after one time budget. Hosts named in
FORMFLOW_WEBHOOK_ALLOW_HOSTS skip the address checks, and only those names."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, replace
from http import HTTPStatus

DEFAULT_PORTS = {"http": 80, "https": 443}
#: An allow-list: (host, port) pairs; port None allows every port of that host.
AllowList = frozenset[tuple[str, int | None]]

_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_PATH = re.compile(r"^[\x21-\x7e]*$")
#: Why a URL is refused, as stored with the delivery (English, our words, never the peer's).
_SENTENCES = {
    "scheme": "only http and https URLs are sent to",
    "credentials": "the URL carries a user name or password",
    "host": "the URL names no valid host",
    "port": "the URL's port is not between 1 and 65535",
    "path": "the URL's path is not printable ASCII",
    "localhost": "{} is this machine",
}
#: The address categories refused, in the order they are named.
ADDRESS_KINDS = ("unspecified", "loopback", "link-local", "multicast", "reserved", "private", "non-public")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class Refused(ValueError):
    """The URL may not be contacted. `kind` is a key of _SENTENCES or an ADDRESS_KINDS entry;
    `subject` the host or address concerned. Refusing again later gives the same answer."""

    def __init__(self, kind: str, subject: str = ""):
        self.kind, self.subject = kind, subject
        if kind in ADDRESS_KINDS:
            sentence = f"{subject} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
        else:
            sentence = _SENTENCES[kind].format(subject)
        super().__init__(f"refused: {sentence}")


class Failed(Exception):
    """The POST got no HTTP answer; the message is short and ours (never the peer's text)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    #: ASCII, lower case, no brackets or final dot: what goes in Host, SNI and the cert check
    host: str
    port: int
    #: path and query: what the request line asks for
    path: str
    #: named in the allow-list: the address checks are skipped
    allowed: bool
    #: (family, sockaddr) that `resolve` checked; `post` connects to these only
    addresses: tuple = ()


# --- the URL and the allow-list ---------------------------------------------------------------


def parse(url: str, allow: AllowList = frozenset()) -> Target:
    """The URL's parts, or Refused for a scheme, userinfo, host, port or path we do not send to."""
    try:
        parts = urllib.parse.urlsplit(str(url))
        port = parts.port
    except ValueError as error:  # a bad port, or brackets that hold no IPv6 address
        raise Refused("port" if "port" in str(error).lower() else "host") from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused("scheme")
    if "@" in parts.netloc:
        raise Refused("credentials")
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise Refused("port")
    host = _host_name(parts.hostname)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not _PATH.match(path):
        raise Refused("path")
    key = _allow_key(host)
    allowed = (key, port) in allow or (key, None) in allow
    return Target(scheme, host, port, path, allowed)


def parse_allow_hosts(text: str | Iterable[str] | None) -> AllowList:
    """FORMFLOW_WEBHOOK_ALLOW_HOSTS: `name`, `name:port`, `10.0.0.5`, `[fd00::5]:8443`, comma
    separated. An address entry also matches its other spellings (`127.1` for 127.0.0.1)."""
    entries = text.split(",") if isinstance(text, str) else list(text or ())
    allowed = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        if entry.count(":") > 1 and not entry.startswith("["):
            entry = f"[{entry}]"  # a bare IPv6 address, without a port
        try:
            parts = urllib.parse.urlsplit(f"//{entry}")
            if parts.netloc != entry or "@" in entry or parts.port == 0:
                raise ValueError(entry)
            allowed.add((_allow_key(_host_name(parts.hostname)), parts.port))
        except ValueError as error:
            raise ValueError(
                f"FORMFLOW_WEBHOOK_ALLOW_HOSTS: {raw.strip()!r} is not a host name or host:port"
            ) from error
    return frozenset(allowed)


def _host_name(hostname: str | None) -> str:
    if not hostname:
        raise Refused("host")
    if ":" in hostname:  # IPv6 (urlsplit took the brackets off); a zone index is dropped
        try:
            return str(ipaddress.IPv6Address(hostname.split("%")[0]))
        except ValueError as error:
            raise Refused("host") from error
    try:  # IDNA, which also folds full-width forms such as ｌｏｃａｌｈｏｓｔ and １２７.０.０.１
        host = hostname.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError as error:
        raise Refused("host") from error
    if not _NAME.match(host):
        raise Refused("host")
    return host


def _literal(host: str) -> str | None:
    """The address a numeric host means, as the resolver reads it (`127.1`, `0x7f.1`,
    `2130706433` are all 127.0.0.1); None for a name. Never touches the network."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return infos[0][4][0]


def _allow_key(host: str) -> str:
    literal = _literal(host)
    return str(ipaddress.ip_address(literal.split("%")[0])) if literal is not None else host


# --- addresses --------------------------------------------------------------------------------


def address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address` is not a public unicast address (an ADDRESS_KINDS entry), or None.
    IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64) are judged by that address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return "private"
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(embedded)
        if address in _IPV4_COMPATIBLE:  # ::a.b.c.d, deprecated; ::1 and :: are named below
            return (
                "unspecified" if address.is_unspecified else "loopback" if address.is_loopback else "reserved"
            )
    for kind, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    ):
        if test:
            return kind
    return None


def _refuse_internal(text: str) -> None:
    address = ipaddress.ip_address(text.split("%")[0])
    kind = address_kind(address)
    if kind:
        raise Refused(kind, text)


def check_url(url: str, allow: AllowList = frozenset()) -> Target:
    """What can be said of the URL without DNS: Refused, or its Target (no addresses yet)."""
    target = parse(url, allow)
    if target.allowed:
        return target
    if target.host == "localhost" or target.host.endswith(".localhost"):
        raise Refused("localhost", target.host)
    literal = _literal(target.host)
    if literal is not None:
        _refuse_internal(literal)
    return target


def resolve(url: str, allow: AllowList = frozenset()) -> Target:
    """`check_url`, then the host's addresses, every one of them public (unless allowed)."""
    target = check_url(url, allow)
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Failed(f"cannot resolve the host ({getattr(error, 'strerror', None) or error})") from error
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not target.allowed:
        for _family, sockaddr in addresses:
            _refuse_internal(sockaddr[0])
    return replace(target, addresses=tuple(addresses))


# --- sending ----------------------------------------------------------------------------------


def post(
    url: str, body: bytes, headers: dict, *, allow: AllowList = frozenset(), timeout: float = 10
) -> tuple[int, str]:
    """POST once: (status, its standard reason phrase). Refused before any connection, Failed
    when no HTTP answer came within `timeout` seconds in all (connect, TLS, send, headers).
    The body of the answer is never read: what an inside server says cannot leak through us."""
    target = resolve(url, allow)
    deadline = time.monotonic() + timeout
    connection = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, deadline)
    # Per-read time-outs alone let a server that trickles a byte at a time hold us for ever.
    watchdog = threading.Timer(timeout, connection.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        status = connection.getresponse().status
    except ssl.SSLCertVerificationError as error:
        raise Failed(f"certificate not accepted: {error.verify_message}"[:100]) from error
    except (TimeoutError, http.client.HTTPException, OSError) as error:
        if connection.timed_out or isinstance(error, TimeoutError):
            raise Failed(f"no answer within {timeout:g} s") from error
        if isinstance(error, http.client.HTTPException):  # its text may quote the peer: not kept
            raise Failed(f"not an HTTP answer ({type(error).__name__})") from error
        raise Failed((error.strerror or type(error).__name__)[:100]) from error
    finally:
        watchdog.cancel()
        connection.close()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return status, phrase


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked addresses, not to whatever the host name resolves to now."""

    def __init__(self, target: Target, deadline: float):
        super().__init__(target.host, target.port, timeout=max(deadline - time.monotonic(), 0.1))
        self.target, self.deadline, self.timed_out = target, deadline, False

    def connect(self) -> None:
        error: OSError = TimeoutError()
        for family, sockaddr in self.target.addresses:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                break
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(remaining)
                self.sock = sock
                sock.connect(sockaddr)
                return
            except OSError as failure:
                error, self.sock = failure, None
                sock.close()
        raise error

    def abort(self) -> None:
        """Called by the watchdog: wakes whatever read or write is waiting."""
        self.timed_out = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()  # certificate and host name checked
        self.sock = context.wrap_socket(self.sock, server_hostname=self.target.host)
