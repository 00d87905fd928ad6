"""The dashboard in a real browser: Debian's chromium driven by Playwright.

Skipped when no chromium is installed (a newcomer's machine); CI installs it and sets
MESIBO_MOCK_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from mesibo_mock import samples
from mesibo_mock.testing import MesiboMock

CHROMIUM = (
    os.environ.get("MESIBO_MOCK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_browser():
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package is not installed"
    if not CHROMIUM:
        missing = "no chromium found (apt-get install chromium)"
    if missing:
        if os.environ.get("MESIBO_MOCK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test required but {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def stack():
    with MesiboMock(subprocess=True) as mock:
        account = samples.fcm_service_account("dashboard-demo")
        mock.client.post(
            "/backend",
            data={"op": "pushupload", "token": mock.app_token},
            files={"file": ("sa.json", account)},
        )
        mock.client.post(
            "/backend",
            data={"op": "pushupload", "token": mock.app_token},
            files={"file": ("dev.p12", samples.apn_p12("com.example.app"))},
        )
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("123456", "android", push_token="fcm-ann")
        mock.register_device("123456", "ios", push_token="ab" * 32, sandbox=True)
        mock.key_lines = json.loads(account)["private_key"].splitlines()[1:4]
        yield mock


def test_dashboard_shows_apps_pushes_live_and_never_a_key(browser, stack):
    first = stack.backend("pushtest", push={"address": "123456"})["push"]["results"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(stack.url + "/_mock/ui")

    # apps, options and redacted credentials
    assert page.locator("article.app h3").first.inner_text().startswith("default")
    assert "dashboard-demo" in page.inner_text("#apps")
    assert "com.example.app" in page.inner_text("#apps")

    # a push made through /backend before the page was opened
    for result in first:
        page.wait_for_selector(f'#pushes tr.record[data-id="{result["id"]}"]', timeout=5000)

    # a new push appears without a reload
    page.evaluate("window.__marker = 'same page'")
    second = stack.backend("pushtest", push={"address": "123456"})["push"]["results"]
    page.wait_for_selector(f'#pushes tr.record[data-id="{second[-1]["id"]}"]', timeout=5000)
    assert page.evaluate("window.__marker") == "same page"

    # a record expands to its rendered request and response, pretty-printed, and its webhook deliveries
    page.click(f'#pushes tr.record[data-id="{second[0]["id"]}"]')
    detail = page.wait_for_selector(f'tr.detail[data-detail="{second[0]["id"]}"]', timeout=5000)
    request_text = detail.query_selector("pre.request").inner_text()
    assert "fcm.googleapis.com/v1/projects/dashboard-demo/messages:send" in request_text
    assert '\n  "method": "POST"' in request_text
    assert "Bearer [redacted]" in request_text
    assert "no webhook deliveries" in detail.query_selector("pre.webhooks").inner_text()

    # filters
    page.select_option("#filters select[name=service]", "apn")
    page.wait_for_function(
        "[...document.querySelectorAll('#pushes tr.record')].every(r => r.children[4].textContent === 'apn')"
    )
    assert page.locator("#pushes tr.record").count() == 2

    if os.environ.get("MESIBO_MOCK_SCREENSHOT"):
        page.select_option("#filters select[name=service]", "")
        page.wait_for_function("document.querySelectorAll('#pushes tr.record').length === 4")
        page.wait_for_selector(f'tr.detail[data-detail="{second[0]["id"]}"]')  # still expanded
        page.screenshot(path=os.environ["MESIBO_MOCK_SCREENSHOT"], full_page=True)

    # no private key anywhere in the page
    html = page.content()
    assert "PRIVATE KEY" not in html
    for line in stack.key_lines:
        assert line not in html
    page.close()


def test_dashboard_controls_clear_and_advance(browser, stack):
    stack.register_device("7", "android", responds=False)
    stack.freeze(True)
    stack.backend("pushtest", push={"address": "7"})
    page = browser.new_page()
    page.goto(stack.url + "/_mock/ui")
    page.wait_for_selector("#pushes tr.record")
    page.fill("#advance-seconds", "30")
    page.click("#advance")  # the fallback becomes due and is made at once
    page.wait_for_function(
        "[...document.querySelectorAll('#pushes tr.record')].some(r => r.children[6].textContent === 'fallback')",
        timeout=5000,
    )
    page.click("#clear-pushes")
    page.wait_for_function("document.querySelectorAll('#pushes tr.record').length === 0", timeout=5000)
    assert stack.pushes() == []
    page.close()


def test_dashboard_reset_button_wipes_and_reloads(browser, stack):
    stack.backend("pushtest", push={"address": "123456"})
    stack.create_app("extra", "extra-token")
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "wipe everything?" confirmation
    page.goto(stack.url + "/_mock/ui")
    page.wait_for_selector("#pushes tr.record")
    assert page.locator("article.app").count() == 2
    page.click("#reset")
    page.wait_for_function("document.querySelectorAll('article.app').length === 1", timeout=5000)
    page.wait_for_function("document.querySelectorAll('#pushes tr.record').length === 0", timeout=5000)
    assert [a["token"] for a in stack.apps()] == [stack.app_token]
    page.close()


def test_dashboard_warns_of_a_certificate_close_to_expiry(browser, stack):
    stack.advance(365 * 10 * 86400 - 10 * 86400)  # the sample certificate is valid for ten years
    page = browser.new_page()
    page.goto(stack.url + "/_mock/ui")
    assert "expires in" in page.inner_text(".cred .warning")
    page.close()


def test_dashboard_needs_the_admin_token_when_one_is_set(browser):
    with MesiboMock(env={"ADMIN_TOKEN": "adm"}) as mock:
        page = browser.new_page()
        assert page.goto(mock.url + "/_mock/ui").status == 401
        assert page.goto(mock.url + "/_mock/ui?admin_token=adm").status == 200
        page.wait_for_selector("#push-count:not(:empty)", timeout=5000)  # its API calls carry the token
        page.close()
