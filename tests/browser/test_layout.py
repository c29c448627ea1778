"""Layout bugs a user saw, measured in a real browser: help and error text under an invalid
input overlapped its border; the case page's reassign button wrapped one character a line."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, submit_new_case

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


def log_in(page, username: str, lang: str = "zh_CN") -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")
    page.context.add_cookies([{"name": "lang", "value": lang, "url": page.url}])


def _overlaps(page, selector: str) -> list[str]:
    """The texts of <small> hints and errors (`selector`) that reach up into their field's input."""
    return page.eval_on_selector_all(
        selector,
        """smalls => smalls.filter(small => {
            const field = small.closest('.ff-field');
            const input = field.querySelector('input:not([type=hidden]), select, textarea');
            return input && small.getBoundingClientRect().top < input.getBoundingClientRect().bottom;
        }).map(small => small.textContent)""",
    )


def test_help_and_error_texts_sit_below_the_invalid_input_not_on_its_border(page):
    log_in(page, "staff")
    page.goto("/cases/new?process=deduction&customer=C001")
    assert page.locator(".ff-field small.ff-help").count() >= 2
    assert _overlaps(page, ".ff-field small.ff-help") == []
    page.locator("button[value=submit]").click()  # everything required left empty
    page.wait_for_load_state()
    assert page.locator("[aria-invalid=true]").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "case-form-invalid.png"), full_page=True)
    assert _overlaps(page, ".ff-field small.ff-help, .ff-field small.ff-error") == []
    # the hint of an invalid field stays a hint (muted), only the error is red
    amount = page.locator(".ff-field", has=page.locator("small.ff-help")).first
    colour = amount.locator("small.ff-help").evaluate("e => getComputedStyle(e).color")
    assert colour != amount.locator("small.ff-error").evaluate("e => getComputedStyle(e).color")


def _submitted_case(page) -> str:
    log_in(page, "staff", "en")
    page.goto("/cases/new?process=deduction&customer=C001")
    page.get_by_label("Quality problem").check()
    page.get_by_label("Amount (CNY)").fill("100.00")
    page.get_by_label("Date of the incident").fill("2026-11-20")
    page.get_by_label("Evidence").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
    )
    return submit_new_case(page)


@pytest.mark.parametrize(("lang", "label"), [("zh_CN", "转交"), ("en", "Reassign")], ids=["zh", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_reassign_button_keeps_its_label_on_one_line(page, lang, label, width):
    case_url = _submitted_case(page)
    log_in(page, "manager", lang)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(case_url)
    button = page.locator("form.reassign-form").get_by_role("button", name=label, exact=True)
    lines = button.evaluate(
        """b => { const r = document.createRange(); r.selectNodeContents(b);
                  return new Set([...r.getClientRects()].map(rect => Math.round(rect.top))).size; }"""
    )
    page.locator("#reassign").screenshot(path=str(ARTIFACTS / f"reassign-{lang}-{width}.png"))
    assert lines == 1
