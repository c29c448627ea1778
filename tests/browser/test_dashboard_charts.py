"""The dashboard in a real browser: Chart.js (vendored) draws every chart from the table printed
beside it under the app's Content-Security-Policy — no script refused, no error in the console —
and the tables stay readable; in both languages."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


@pytest.mark.parametrize(("language", "heading"), [("en", "Dashboard"), ("zh_CN", "看板")])
def test_every_chart_is_drawn_from_its_table_with_no_script_refused(page, language, heading):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(response.url) if response.status >= 400 else None)
    log_in(page, "finance", language=language)
    page.goto("/dashboard")
    page.wait_for_load_state("load")
    assert heading in page.locator("h1").inner_text()
    sections = page.locator("section.dashboard-chart")
    assert sections.count() == 5
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('table.chart-table')).map((table) => !!(window.Chart"
        " && window.Chart.getChart(document.getElementById('canvas-' + table.dataset.chart))))"
    )
    assert len(drawn) >= 3 and all(drawn), drawn  # the demo has numbers for most charts
    empty = page.locator("section.dashboard-chart:not(:has(table))")
    assert empty.count() == 5 - len(drawn) and empty.locator("canvas").count() == 0  # no blank box
    assert problems == [], problems
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{language}.png"), full_page=True)
