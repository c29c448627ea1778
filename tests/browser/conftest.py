"""A live server on a real database, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from browser_support import ARTIFACTS
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("FORMFLOW_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def live_server(live_app):
    runner = live_app.test_cli_runner()
    assert runner.invoke(args=["formflow", "demo"]).exit_code == 0
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    executable = shutil.which(CHROMIUM) or CHROMIUM
    assert Path(executable).exists(), f"{CHROMIUM} missing: `make browser-deps` installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        yield tab
        ARTIFACTS.mkdir(exist_ok=True)
        context.close()
        browser.close()
