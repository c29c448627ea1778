"""Where browser tests leave their screenshots (git-ignored)."""

import re
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)


def log_in(page, username: str, password: str = "demo", language: str = "en") -> None:
    """Log in as `username` (a demo user by default) and read the pages in `language`."""
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")
    page.context.add_cookies([{"name": "lang", "value": language, "url": page.url}])


def act(page, case_url: str, action: str, comment: str = "") -> None:
    """Take `action` (its button's title) on the case page, with `comment`."""
    page.goto(case_url)
    if comment:
        page.locator("form.action-form textarea[name=comment]").fill(comment)
    page.locator("form.action-form").get_by_role("button", name=action, exact=True).click()


def submit_new_case(page) -> str:
    """Submit the new case's form filled on `page`; the address of the case page it lands on."""
    page.locator("button[value=submit]").click()
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    return page.url
