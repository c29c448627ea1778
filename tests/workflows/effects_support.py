"""A small deduction-like process whose states each run some effects, users with e-mail
addresses, and local servers (HTTP and SMTP) so no test touches the network.

`publish_with(states)`: every extra state is reachable from draft by the action
`go_<state>` (staff) and leaves by `close`; `walk(case, state)` takes that action."""

from __future__ import annotations

import copy
import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.workflows import engine

PASSWORD = "correct-horse-9"
KEY = "fx_deduction"
CUSTOMER = "FX100"

SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "title": "Amount", "multipleOf": 0.01, "minimum": 0},
        "fee": {"type": "number", "title": "Fee", "multipleOf": 0.01},
        "reason": {"type": "string", "title": "Reason", "enum": ["quality", "service", "late", "other"]},
        "reviewer": {"type": "string", "title": "Reviewer"},
        "executed_on": {"type": "string", "title": "Executed on", "format": "date"},
        "note": {"type": "string", "title": "Note"},
        "language": {"type": "string", "title": "Notice language"},
    },
}

NOTICES = {
    "review_needed": {
        "subject": {"zh-CN": "案件 {{ case.id }} 待审核", "en": "Case {{ case.id }} needs review"},
        "body": {
            "zh-CN": "客户 {{ customer.name }}（{{ customer.code }}）扣款 {{ data.amount|money }} 元。",
            "en": "{{ customer.name }} ({{ customer.code }}): deduction of {{ data.amount|money }}.",
        },
    },
    "deduction_notice": {
        "subject": {"zh-CN": "扣款通知（案件 {{ case.id }}）", "en": "Deduction notice (case {{ case.id }})"},
        "body": {"zh-CN": "尊敬的{{ customer.name }}：", "en": "Dear {{ customer.name }},"},
        "sections": {
            "reasons": {"zh-CN": "原因：{{ data.reason }}", "en": "Reason: {{ data.reason }}"},
            "amounts": {
                "zh-CN": "扣款金额：{{ data.amount|money }} 元",
                "en": "Amount: CNY {{ data.amount|money }}",
            },
            "rights": {"zh-CN": "您有权查阅证据。", "en": "You may inspect the evidence."},
            "appeal": {"zh-CN": "请在 7 日内提出异议。", "en": "Dispute within 7 days."},
            "contact": {"zh-CN": "客服：400-000-0000", "en": "Service desk: 400-000-0000"},
        },
    },
}


def spec_with(
    states: dict, *, key: str = KEY, schema: dict | None = None, notices: dict | None = None
) -> dict:
    workflow_states = {
        "draft": {
            "kind": "form",
            "actions": {f"go_{name}": {"to": name, "roles": ["staff"]} for name in states},
        },
        **{
            name: {"kind": "automatic", **state, "actions": {"close": {"to": "closed", "roles": ["staff"]}}}
            for name, state in states.items()
        },
        "closed": {"kind": "final"},
    }
    return {
        "formflow": 1,
        "key": key,
        "category": "deduction",
        "name": {"zh-CN": "效果测试", "en": "Effects test"},
        "form": {"schema": copy.deepcopy(schema or SCHEMA)},
        "workflow": {
            "start": "draft",
            "states": workflow_states,
            "notices": copy.deepcopy(NOTICES if notices is None else notices),
        },
    }


def publish_with(states: dict, **options) -> dict:
    """Import and publish (in the current app context, committed); returns the spec."""
    spec = spec_with(states, **options)
    processes.import_spec(spec)
    processes.publish(spec["key"])
    db.session.commit()
    return spec


def world() -> dict:
    """A customer and users (committed): staff, two finance (one inactive), a manager."""
    customers.create(CUSTOMER, "华东测试有限公司", "C")
    people = {
        "staff": auth.create_user("fx-staff", PASSWORD, ["staff"], email="staff@example.test"),
        "fin1": auth.create_user("fx-fin1", PASSWORD, ["finance"], email="fin1@example.test"),
        "fin2": auth.create_user("fx-fin2", PASSWORD, ["finance"]),
        "gone": auth.create_user("fx-gone", PASSWORD, ["finance"], email="gone@example.test"),
        "manager": auth.create_user("fx-manager", PASSWORD, ["manager"], email="manager@example.test"),
    }
    people["gone"].active = False
    db.session.commit()
    return people


def new_case(actor, data=None, key: str = KEY):
    data = data or {"amount": Decimal("3000.00"), "reason": "quality"}
    case = cases.start(key, CUSTOMER, data, submit=False, actor=actor)
    db.session.commit()
    return case


def walk(case, state: str, actor, **options):
    return engine.perform(case, f"go_{state}", actor, **options)


# --- a local HTTP receiver ----------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    requests: list[dict] = field(default_factory=list)
    #: status codes to answer with, in turn (the last one repeats)
    statuses: list[int] = field(default_factory=lambda: [200])

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@contextmanager
def http_receiver(statuses=(200,), *, answer: bytes | None = None, tls=None) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 (webhook tests allow that host). `answer`: the body it sends
    (default {"status": N}); `tls`: an ssl.SSLContext to serve https with."""
    receiver = Receiver("", statuses=list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = receiver.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Type", "application/json")
            text = answer if answer is not None else json.dumps({"status": status}).encode()
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    receiver.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hooks/formflow"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- a local SMTP sink ---------------------------------------------------------------------------


@dataclass
class Sink:
    host: str
    port: int
    messages: list[dict] = field(default_factory=list)
    #: RCPT TO addresses answered with 550
    refuse: set[str] = field(default_factory=set)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink: Sink = self.server.sink
        sender, recipients = None, []
        self.reply("220 sink.test ESMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                self.wfile.flush()
            elif verb == "HELO" or verb == "NOOP":
                self.reply("250 ok")
            elif verb == "MAIL":
                sender, recipients = command[10:].split(" ")[0].strip("<>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                address = command[8:].split(" ")[0].strip("<>")
                if address in sink.refuse:
                    self.reply("550 no such mailbox")
                else:
                    recipients.append(address)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                sink.messages.append({"from": sender, "to": recipients, "data": b"".join(lines)})
                self.reply("250 queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_sink() -> Iterator[Sink]:
    server = _SMTPServer(("127.0.0.1", 0), _SMTPHandler)
    sink = Sink("127.0.0.1", server.server_address[1])
    server.sink = sink
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
