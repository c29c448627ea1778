"""The deduction form says what a person needs: the tier limit a too-large amount breaks,
with its number, in their language; and, after any error, which file is already attached
(its name, never its token)."""

from __future__ import annotations

import io
import re

import pytest

NEW = "/cases/new?process=deduction&customer=C005"  # C005 is a tier C customer


@pytest.fixture
def staff(app, cli, client):
    assert cli("demo").exit_code == 0
    assert client.login("staff", "demo").status_code == 302
    return client


def _post(client, fields: dict, **files):
    data = {"csrf_token": client.csrf_token(NEW), **fields, **files}
    return client.raw.post(NEW, data=data, content_type="multipart/form-data")


def _deduction(amount: str, **extra) -> dict:
    return {
        "/reason": "quality",
        "/amount": amount,
        "/incident_date": "2026-11-20",
        "case_action": "submit",
        "/evidence": (io.BytesIO(b"%PDF-1.4 evidence"), "收货单 11月.pdf", "application/pdf"),
        **extra,
    }


def _text(html: str) -> str:
    """The page's text (the live rules' JSON island holds the message's template)."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh_Hans_CN", "超过 C 级客户单笔扣款上限 5,000.00 元"),
        ("en", "Above the single-deduction limit of 5,000.00 for tier C customers"),
    ],
)
def test_the_tier_limit_message_names_the_limit(staff, language, message):
    staff.set_cookie("lang", language)
    refused = _post(staff, _deduction("6000"))
    assert refused.status_code == 422
    text = _text(refused.get_data(as_text=True))
    assert message in text
    assert "{limit}" not in text and "{tier}" not in text


def test_after_an_error_the_file_field_shows_the_file_name(staff):
    staff.set_cookie("lang", "en")
    refused = _post(staff, _deduction("6000"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    token = re.search(r'type="hidden" name="/evidence" value="(att_[^"]+)"', page)[1]
    note = re.search(r'<small class="ff-current-file">(.*?)</small>', page)[1]
    assert "收货单 11月.pdf" in note and token[:12] not in note
    staff.set_cookie("lang", "zh_Hans_CN")
    again = _post(staff, {**_deduction("6000"), "/evidence": token})
    assert "当前附件：收货单 11月.pdf" in _text(again.get_data(as_text=True))


def test_a_file_field_names_only_files_the_user_may_read(app, staff, login_as):
    refused = _post(staff, _deduction("6000"))
    token = re.search(r'name="/evidence" value="(att_[^"]+)"', refused.get_data(as_text=True))[1]
    other = login_as("staff")  # another member of staff posting a token they should not know
    page = other.raw.post(
        NEW,
        data={**_deduction("6000"), "/evidence": token, "csrf_token": other.csrf_token(NEW)},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "收货单" not in page
