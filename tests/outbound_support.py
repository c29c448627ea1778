"""What outbound-HTTP tests need without touching the network: a DNS of our own for chosen
names (everything else goes to the real resolver), a throw-away CA and server certificate
(openssl), and a server that answers one byte at a time for ever."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class FakeDNS:
    #: name -> a list of address lists, answered in turn (the last one repeats)
    answers: dict[str, list[list[str]]]
    lookups: list[str] = field(default_factory=list)

    def answer(self, name: str) -> list[str]:
        queue = self.answers[name]
        return queue.pop(0) if len(queue) > 1 else queue[0]


def fake_dns(monkeypatch, answers: dict[str, list[str] | list[list[str]]]) -> FakeDNS:
    """`socket.getaddrinfo` answers `answers` for those names (a list of lists: a changing
    answer, as DNS rebinding gives) and records each lookup of them."""
    real = socket.getaddrinfo
    dns = FakeDNS({name: (v if v and isinstance(v[0], list) else [v]) for name, v in answers.items()})

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in dns.answers or flags & socket.AI_NUMERICHOST:  # not a lookup
            return real(host, port, family, type, proto, flags)
        dns.lookups.append(name)
        results = []
        for address in dns.answer(name):
            results += real(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        return results

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return dns


@dataclass
class Certificates:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def certificates(folder: Path, name: str) -> Certificates:
    """A CA and a server certificate for `name` signed by it (skips without openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    ca = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA", *ca)
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={name}")
    (folder / "server.ext").write_text(
        f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext")  # fmt: skip
    return Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")


@contextmanager
def trickling_server() -> Iterator[int]:
    """A port on 127.0.0.1 whose server reads the request, then sends its headers one byte
    every 0.2 s and never finishes (a per-read time-out alone would wait for ever)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000:
                    if stop.wait(0.2):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@contextmanager
def raw_answer_server(answer: bytes) -> Iterator[int]:
    """A port on 127.0.0.1 that answers every request with `answer`, byte for byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
