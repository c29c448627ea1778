"""Outbound HTTP (formflow/outbound.py) cannot be pointed inside: every spelling of an inside
address is refused before DNS and again after it, the connection goes to the address that was
checked, a named host can be allowed, and what comes back is a status, never a body."""

from __future__ import annotations

import time

import pytest
from outbound_support import certificates, fake_dns, raw_answer_server, trickling_server
from workflows.effects_support import http_receiver

from formflow import config, outbound

INSIDE = [
    ("http://127.0.0.1:5000/hook", "loopback", "127.0.0.1"),
    ("http://127.1/hook", "loopback", "127.0.0.1"),
    ("http://2130706433/hook", "loopback", "127.0.0.1"),
    ("http://0x7f.1/hook", "loopback", "127.0.0.1"),
    ("http://0177.0.0.1/hook", "loopback", "127.0.0.1"),
    ("http://１２７.０.０.１/hook", "loopback", "127.0.0.1"),
    ("http://0.0.0.0:5432/", "unspecified", "0.0.0.0"),
    ("http://[::1]/hook", "loopback", "::1"),
    ("http://[::]/hook", "unspecified", "::"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback", "::ffff:127.0.0.1"),
    ("http://[64:ff9b::7f00:1]/hook", "loopback", "64:ff9b::7f00:1"),
    ("http://[2002:7f00:1::]/hook", "loopback", "2002:7f00:1::"),
    ("http://[::127.0.0.1]/hook", "reserved", "::127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "link-local", "169.254.169.254"),
    ("http://[fe80::1%25eth0]/", "link-local", "fe80::1"),
    ("http://10.0.0.5/", "private", "10.0.0.5"),
    ("http://172.16.0.1/", "private", "172.16.0.1"),
    ("https://192.168.1.1/", "private", "192.168.1.1"),
    ("http://[fd00::5]/", "private", "fd00::5"),
    ("http://[64:ff9b:1::a00:5]/", "private", "64:ff9b:1::a00:5"),
    ("http://100.64.0.1/", "non-public", "100.64.0.1"),
    ("http://224.0.0.1/", "multicast", "224.0.0.1"),
    ("http://[ff02::1]/", "multicast", "ff02::1"),
    ("http://240.0.0.1/", "reserved", "240.0.0.1"),
    ("http://255.255.255.255/", "reserved", "255.255.255.255"),
    ("http://localhost:5000/", "localhost", "localhost"),
    ("http://LOCALHOST./", "localhost", "localhost"),
    ("http://api.localhost/", "localhost", "api.localhost"),
    ("http://ｌｏｃａｌｈｏｓｔ/", "localhost", "localhost"),
]


@pytest.mark.parametrize(("url", "kind", "subject"), INSIDE)
def test_every_spelling_of_an_inside_address_is_refused_without_dns(monkeypatch, url, kind, subject):
    dns = fake_dns(monkeypatch, {})  # records nothing: no name is looked up
    with pytest.raises(outbound.Refused) as refused:
        outbound.check_url(url)
    assert (refused.value.kind, refused.value.subject) == (kind, subject)
    assert str(refused.value).startswith(f"refused: {subject} is ")
    assert dns.lookups == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://user:secret@hooks.example.com/x", "credentials"),
        ("http://user@hooks.example.com/x", "credentials"),
        ("https://:pw@hooks.example.com/x", "credentials"),
        ("http://127.0.0.1\\@hooks.example.com/", "credentials"),
        ("ftp://hooks.example.com/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
        ("http:///only-a-path", "host"),
        ("http://exa mple.com/", "host"),
        ("http://[::1/", "host"),
        ("http://hooks.example.com:0/", "port"),
        ("http://hooks.example.com:99999/", "port"),
        ("http://hooks.example.com:x/", "port"),
        ("http://hooks.example.com/a b", "path"),
    ],
)
def test_credentials_other_schemes_and_broken_urls_are_refused(url, kind):
    with pytest.raises(outbound.Refused) as refused:
        outbound.check_url(url)
    assert refused.value.kind == kind


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/formflow?x=1",
        "http://8.8.8.8/hook",
        "http://[2001:4860:4860::8888]:8443/hook",
        "http://[::ffff:8.8.8.8]/",
        "http://[64:ff9b::808:808]/",
        "http://localhost.example.com/",
    ],
)
def test_public_hosts_pass(url):
    assert outbound.check_url(url).allowed is False


def test_the_allow_list_names_hosts_and_ports(monkeypatch):
    allow = outbound.parse_allow_hosts(" hooks.internal ,127.0.0.1:8080, [::1]:9000, FD00::5 ")
    assert allow == {("hooks.internal", None), ("127.0.0.1", 8080), ("::1", 9000), ("fd00::5", None)}
    assert outbound.check_url("http://hooks.internal:1234/x", allow).allowed
    assert outbound.check_url("https://HOOKS.INTERNAL./x", allow).allowed
    assert outbound.check_url("http://127.0.0.1:8080/x", allow).allowed
    assert outbound.check_url("http://127.1:8080/x", allow).allowed  # the same address
    assert outbound.check_url("http://[::1]:9000/", allow).allowed
    assert outbound.check_url("http://[fd00::5]/", allow).allowed
    for url in ("http://127.0.0.1:8081/", "http://localhost:8080/", "http://[::1]/", "http://10.0.0.5/"):
        with pytest.raises(outbound.Refused):
            outbound.check_url(url, allow)  # only the names (and ports) given
    with pytest.raises(outbound.Refused) as refused:
        outbound.check_url("http://user:pw@hooks.internal/", allow)
    assert refused.value.kind == "credentials"  # allowed hosts get no credentials either
    for bad in ("http://hooks.internal", "user@hooks.internal", "hooks.internal:0", "a b", "h:port"):
        with pytest.raises(ValueError, match="FORMFLOW_WEBHOOK_ALLOW_HOSTS"):
            outbound.parse_allow_hosts(bad)
    monkeypatch.setenv("FORMFLOW_WEBHOOK_ALLOW_HOSTS", "hooks.internal:8443")
    settings = config.settings_from_env(config.instance_path(), secret_key="x")
    assert settings["WEBHOOK_ALLOW_HOSTS"] == {("hooks.internal", 8443)}


def test_a_name_is_refused_if_any_address_it_resolves_to_is_inside(monkeypatch):
    fake_dns(
        monkeypatch,
        {
            "rebind.example.com": ["8.8.8.8", "127.0.0.1"],
            "metadata.example.com": ["169.254.169.254"],
            "mapped.example.com": ["::ffff:10.0.0.1"],
            "public.example.com": ["8.8.8.8", "2001:4860:4860::8888"],
        },
    )
    for name, kind in (("rebind", "loopback"), ("metadata", "link-local"), ("mapped", "private")):
        outbound.check_url(f"https://{name}.example.com/")  # the name alone says nothing
        with pytest.raises(outbound.Refused) as refused:
            outbound.resolve(f"https://{name}.example.com/")
        assert refused.value.kind == kind
    target = outbound.resolve("https://public.example.com/")
    assert [sockaddr[0] for _family, sockaddr in target.addresses] == ["8.8.8.8", "2001:4860:4860::8888"]


def test_a_refused_url_is_never_connected_to(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    with http_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        for url in (receiver.url, f"http://localhost:{port}/", f"http://hooks.example.com:{port}/"):
            with pytest.raises(outbound.Refused):
                outbound.post(url, b"{}", {})
        assert receiver.requests == []


def test_the_connection_goes_to_the_checked_address_with_the_url_host(monkeypatch):
    """DNS rebinding: a second lookup would get an address where nothing listens; there is none."""
    with http_receiver() as receiver:
        port = int(receiver.url.split(":")[2].split("/")[0])
        dns = fake_dns(monkeypatch, {"hooks.internal.test": [["127.0.0.1"], ["127.0.0.2"]]})
        allow = outbound.parse_allow_hosts(f"hooks.internal.test:{port}")
        status, phrase = outbound.post(f"http://hooks.internal.test:{port}/in?x=1", b"{}", {}, allow=allow)
    assert (status, phrase) == (200, "OK")
    assert dns.lookups == ["hooks.internal.test"]
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.internal.test:{port}" and request["path"] == "/in?x=1"


def test_https_checks_the_certificate_against_the_url_host(monkeypatch, tmp_path):
    certs = certificates(tmp_path, "hooks.internal.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))  # the test CA, as a deployment's own CA
    fake_dns(monkeypatch, {"hooks.internal.test": ["127.0.0.1"], "other.internal.test": ["127.0.0.1"]})
    allow = outbound.parse_allow_hosts("hooks.internal.test, other.internal.test")
    with http_receiver(tls=certs.server_context()) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        assert outbound.post(f"https://hooks.internal.test:{port}/h", b"{}", {}, allow=allow) == (200, "OK")
        with pytest.raises(outbound.Failed, match="certificate"):
            outbound.post(f"https://other.internal.test:{port}/h", b"{}", {}, allow=allow)
    assert len(receiver.requests) == 1


def test_the_answer_is_a_status_and_its_standard_phrase_never_what_the_server_wrote(monkeypatch):
    allow = outbound.parse_allow_hosts("127.0.0.1")
    leaked = b"HTTP/1.1 500 password=hunter2\r\nContent-Length: 20\r\n\r\nsecret: hunter2 xxxx"
    with raw_answer_server(leaked) as port:
        answer = outbound.post(f"http://127.0.0.1:{port}/", b"{}", {}, allow=allow)
    assert answer == (500, "Internal Server Error")
    passwd = b"root:x:0:0:root:/root:/bin/bash\n"
    with raw_answer_server(passwd) as port, pytest.raises(outbound.Failed) as failed:
        outbound.post(f"http://127.0.0.1:{port}/", b"{}", {}, allow=allow)
    assert "root" not in str(failed.value) and "not an HTTP answer" in str(failed.value)


def test_a_server_trickling_its_answer_is_given_up_on_in_time():
    allow = outbound.parse_allow_hosts("127.0.0.1")
    with trickling_server() as port:
        started = time.monotonic()
        with pytest.raises(outbound.Failed, match="no answer within 1 s"):
            outbound.post(f"http://127.0.0.1:{port}/", b"{}", {}, allow=allow, timeout=1)
        assert time.monotonic() - started < 3
