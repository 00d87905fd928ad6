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
    page.goto(stack.url + "/_mock/ui#apps")

    # apps, options and redacted credentials
    assert page.locator("article.app h3").first.inner_text().startswith("default")
    assert "dashboard-demo" in page.inner_text("#apps")
    assert "com.example.app" in page.inner_text("#apps")

    # a push made through /backend before the page was opened, on the Pushes tab
    page.click("#tab-pushes")
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
    page.goto(stack.url + "/_mock/ui#pushes")
    page.wait_for_selector("#pushes tr.record")
    page.fill("#advance-amount", "30")
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
    page.goto(stack.url + "/_mock/ui#pushes")
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
    page.goto(stack.url + "/_mock/ui#apps")
    assert "expires in" in page.inner_text(".cred .warning")
    page.close()


def test_dashboard_needs_the_admin_token_when_one_is_set(browser):
    with MesiboMock(env={"ADMIN_TOKEN": "adm"}) as mock:
        page = browser.new_page()
        assert page.goto(mock.url + "/_mock/ui").status == 401
        assert page.goto(mock.url + "/_mock/ui?admin_token=adm#pushes").status == 200
        page.wait_for_selector("#push-count:not(:empty)", timeout=5000)  # its API calls carry the token
        page.close()


def test_dashboard_shows_users_groups_and_live_messages_linked_to_their_pushes(browser, stack):
    stack.backend("useradd", user={"address": "654321", "name": "Bob"})
    stack.register_device("777", "android", push_token="fcm-777")
    gid = stack.backend("groupadd", group={"name": "Team", "members": {"m": "123456,654321,777"}})["group"][
        "gid"
    ]
    stack.set_online("654321", True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(stack.url + "/_mock/ui#people")

    # users with their online state, groups with their members (the Users & groups tab)
    online = page.locator('table.users tr[data-address="654321"] td.online').inner_text()
    assert "online" in online and "offline" not in online
    assert "offline" in page.locator('table.users tr[data-address="777"] td.online').inner_text()
    group = page.locator(f'p.group[data-gid="{gid}"]')
    assert "Team" in group.inner_text()
    assert [m.inner_text().split()[0] for m in group.locator(".member").all()] == ["123456", "654321", "777"]

    # a message sent after the page opened appears without a reload, on the Messages tab
    page.click("#tab-messages")
    mid = stack.send_message("654321", gid=gid, message="hello team")
    row = page.wait_for_selector(f'#messages tr.message[data-mid="{mid}"]', timeout=5000)
    assert "hello team" in row.inner_text()

    # a click on it shows the pushes it caused; a click on one of those opens that push
    pushes = stack.message(mid)["pushes"]
    assert len(pushes) == 3  # 123456's two devices and 777's: not the sender
    row.click()
    detail = page.wait_for_selector(f'tr.detail[data-message-detail="{mid}"]', timeout=5000)
    assert (
        sorted(int(a.get_attribute("data-push")) for a in detail.query_selector_all("a.push-link")) == pushes
    )
    page.locator(f'tr.detail[data-message-detail="{mid}"] a.push-link[data-push="{min(pushes)}"]').click()
    page.wait_for_selector(f'tr.detail[data-detail="{min(pushes)}"]', timeout=5000)  # on the Pushes tab

    # and the push shows the message it came from
    link = page.locator(f'tr.detail[data-detail="{min(pushes)}"] a.message-link')
    assert link.get_attribute("data-mid") == str(mid) and f"message {mid}" in link.inner_text()
    page.close()


def test_dashboard_marks_clock_offset_fallbacks_and_injected_faults(browser, stack):
    stack.register_device("7", "android", push_token="fcm-silent", responds=False)
    stack.inject_fault("QUOTA_EXCEEDED", address="123456", count=1)
    failed = stack.backend("pushtest", push={"address": "123456"})["push"]["results"]
    [silent] = stack.backend("pushtest", push={"address": "7"})["push"]["results"]
    stack.advance(2 * 3600)  # the fallback of the silent device's push becomes due and is made
    [fallback] = stack.pushes(kind="fallback")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(stack.url + "/_mock/ui#pushes")

    # the header says the clock is not real time, and by how much
    page.wait_for_function(
        "document.getElementById('clock-note').textContent.includes('ahead')", timeout=5000
    )
    assert "2.0 h ahead of real time" in page.inner_text("#clock-note")

    # the push failed by the injected fault is marked as injected; the others are not
    injected = [r for r in failed if r["reason"] == "QUOTA_EXCEEDED"]
    assert len(injected) == 1
    page.wait_for_selector(f'#pushes tr.record[data-id="{injected[0]["id"]}"] .tag.injected', timeout=5000)
    assert page.locator("#pushes .tag.injected").count() == 1

    # a fallback links to the push it follows
    page.click(f'#pushes tr.record[data-id="{fallback["id"]}"]')
    link = page.wait_for_selector(f'tr.detail[data-detail="{fallback["id"]}"] a.follows-link', timeout=5000)
    assert link.get_attribute("data-push") == str(silent["id"])
    link.click()
    page.wait_for_selector(f'tr.detail[data-detail="{silent["id"]}"]', timeout=5000)

    # the devices table fits a 1,400 px window: no horizontal scrolling
    page.click("#tab-people")
    overflow = page.evaluate(
        "[...document.querySelectorAll('.devices-box')].map(b => b.scrollWidth - b.clientWidth)"
    )
    assert max(overflow) <= 0 and page.evaluate("document.documentElement.scrollWidth") <= 1400
    page.close()


def test_api_docs_render_with_the_network_cut_off(browser):
    """Swagger UI comes from the emulator itself: with every other host unreachable, it renders."""
    with MesiboMock() as mock:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def only_local(route):
            if route.request.url.startswith(mock.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        page.goto(mock.url + "/docs")
        page.wait_for_selector("#operations-backend-backend_post", timeout=15000)
        assert "/_mock/messages" in page.inner_text("#swagger-ui")
        if os.environ.get("MESIBO_MOCK_SCREENSHOT_DOCS"):
            page.click("#operations-backend-backend_post")
            page.screenshot(path=os.environ["MESIBO_MOCK_SCREENSHOT_DOCS"])
        assert outside == []
        context.close()


def test_a_page_on_another_origin_can_neither_read_tokens_nor_reset(browser):
    """The attack that got through: any web page read every app token and wiped the emulator."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    with MesiboMock() as mock:
        mock.create_app("precious", "precious-token")
        target = mock.url
        page_html = f"""<!doctype html><html><body>
<form id="f" method="POST" action="{target}/_mock/reset" enctype="text/plain" target="sink">
<input name='{{"a":"' value='"}}'></form><iframe name="sink"></iframe>
<script>
window.results = {{}};
(async () => {{
  try {{ const r = await fetch("{target}/_mock/apps"); window.results.read = await r.text(); }}
  catch (e) {{ window.results.read = "blocked: " + e; }}
  try {{ await fetch("{target}/_mock/reset", {{method: "POST", mode: "no-cors"}}); }} catch (e) {{}}
  try {{ await fetch("{target}/_mock/reset", {{method: "POST", mode: "no-cors",
           headers: {{"content-type": "text/plain"}}, body: "{{}}"}}); }} catch (e) {{}}
  try {{ const r = await fetch("{target}/_mock/reset", {{method: "POST",
           headers: {{"content-type": "application/json"}}, body: "{{}}"}}); window.results.json = r.status; }}
  catch (e) {{ window.results.json = "blocked: " + e; }}
  document.getElementById("f").submit();
  setTimeout(() => {{ window.results.done = true; }}, 1500);
}})();
</script></body></html>""".encode()

        class Page(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(page_html)

            def log_message(self, *args):
                pass

        site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=site.serve_forever, daemon=True).start()
        try:
            page = browser.new_page()
            page.goto(f"http://localhost:{site.server_address[1]}/")  # another origin than 127.0.0.1:port
            page.wait_for_function("window.results && window.results.done", timeout=15000)
            results = page.evaluate("window.results")
            page.close()
        finally:
            site.shutdown()
        assert results["read"].startswith("blocked"), results  # no CORS on /_mock: the page reads nothing
        assert "precious-token" not in json.dumps(results)
        assert str(results["json"]).startswith("blocked"), results  # its preflight is not granted
        assert "precious-token" in [a["token"] for a in mock.apps()]  # and nothing was reset


def test_the_console_acts_through_the_api(browser, tmp_path):
    """Every console action, done through the page with an admin token set, checked through the API."""
    with MesiboMock(env={"ADMIN_TOKEN": "adm"}) as mock:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        ui = mock.url + "/_mock/ui?admin_token=adm"
        page.goto(ui)

        def done(what: str) -> None:
            page.wait_for_function(
                f"document.getElementById('notice').textContent.startsWith({json.dumps(what)})", timeout=8000
            )

        def tab(name: str) -> None:
            page.click(f"#tab-{name}")
            page.wait_for_selector(f"#panel-{name}:not([hidden])", timeout=5000)

        def settle() -> None:
            """Wait for the reload that follows a successful action (the console re-renders the page)."""
            page.evaluate("window.__stale = true")  # the reload comes 400 ms after the notice
            page.wait_for_function("!window.__stale && document.body.dataset.refreshed", timeout=8000)

        # create an app: its token is shown, ready to copy
        page.fill("#create-app input[name=name]", "console")
        page.fill("#create-app input[name=token]", "console-token")
        page.click("#create-app button[type=submit]")
        done("create an app: done")
        assert page.input_value("#new-token-value") == "console-token"
        page.click("#copy-token")
        assert mock.app("console-token")["name"] == "console"
        page.goto(ui)
        tab("apps")
        app = 'article.app[data-token="console-token"]'
        people = 'article.people[data-token="console-token"]'

        # upload a credential by choosing a file; a refused one shows the real pushupload cause
        (tmp_path / "service.json").write_bytes(samples.fcm("console-project"))
        (tmp_path / "dev.p12").write_bytes(samples.apn_development())
        page.set_input_files(f"{app} .upload-form input[type=file]", str(tmp_path / "dev.p12"))
        page.select_option(f"{app} .upload-form select[name=type]", "fcm")
        page.click(f"{app} .upload-form button[type=submit]")
        done("pushupload refused: BADVALUE (code 400): 'file' is refused")
        assert "PKCS#12" in page.inner_text("#notice")
        beside = page.inner_text(f"{app} .upload-form .form-error")  # and where the file was chosen
        assert beside.startswith("BADVALUE (code 400): 'file' is refused") and "type=apn" in beside
        if os.environ.get("MESIBO_MOCK_SCREENSHOT_CONSOLE"):
            page.locator(app).screenshot(
                path=os.environ["MESIBO_MOCK_SCREENSHOT_CONSOLE"] + "-refused-upload.png"
            )
        assert mock.app("console-token")["credentials"]["fcm"] is None
        page.set_input_files(f"{app} .upload-form input[type=file]", str(tmp_path / "service.json"))
        page.select_option(f"{app} .upload-form select[name=type]", "")
        page.click(f"{app} .upload-form button[type=submit]")
        done("pushupload: done")
        settle()
        assert mock.app("console-token")["credentials"]["fcm"]["project_id"] == "console-project"

        # toggle a push option
        page.check(f'{app} .options-form input[name="sound"]')
        done("pushset sound: done")
        assert mock.app("console-token")["push"]["sound"] is True
        settle()

        # open and end a debug window
        page.fill(f"{app} .debug-form input[name=duration]", "600")
        page.click(f"{app} .debug-form button[type=submit]")
        done("open a debug window: done")
        assert mock.app("console-token")["debug"]["active"] is True
        settle()
        assert "one start every 8 hours" in page.inner_text(f"{app} .limits")
        assert "next window from" in page.inner_text(app)
        page.click(f"{app} .end-debug")
        done("end the debug window: done")
        assert mock.app("console-token")["debug"]["active"] is False
        settle()

        # set and remove the webhook
        page.fill(f"{app} .webhook-form input[name=url]", "http://127.0.0.1:9/hook")
        page.uncheck(f"{app} .webhook-form input[name=events][value=push]")  # only message and user events
        page.click(f"{app} .webhook-form button[type=submit]")
        done("set the webhook: done")
        assert mock.app("console-token")["webhook"] == {
            "url": "http://127.0.0.1:9/hook",
            "events": ["message", "user"],
        }
        page.goto(ui)  # a fresh load, no tab in the URL: it opens on what happened, the Requests
        assert page.get_attribute("#tab-requests", "aria-selected") == "true"
        assert page.evaluate("location.hash") == "#requests"
        tab("apps")
        assert "HTTPS only" in page.inner_text(app)  # what Mesibo's cloud would say of an http:// URL
        page.click(f"{app} .remove-webhook")
        done("remove the webhook: done")
        assert mock.app("console-token")["webhook"] is None
        settle()

        # register devices as the SDK would (on the Users & groups tab, which a reload keeps)
        tab("people")
        for address, token in (("ann", "fcm-ann"), ("bob", "fcm-bob")):
            page.fill(f"{people} .device-form input[name=address]", address)
            page.fill(f"{people} .device-form input[name=push_token]", token)
            page.uncheck(f"{people} .device-form input[name=responds]")
            page.click(f"{people} .device-form button[type=submit]")
            done("register a device: done")
            settle()
        tab("apps")
        devices = mock.devices(token="console-token")
        assert {(d["address"], d["responds"]) for d in devices} == {("ann", False), ("bob", False)}

        # send a test push and see its record appear
        page.fill(f"{app} .pushtest-form input[name=address]", "ann")
        page.click(f"{app} .pushtest-form button[type=submit]")
        done("pushtest: done")
        [push] = mock.pushes(token="console-token")
        assert "sent" in page.inner_text(f"{app} .pushtest-result")
        tab("pushes")
        page.wait_for_selector(f'#pushes tr.record[data-id="{push["id"]}"]', timeout=5000)
        tab("apps")

        # an error is shown with the envelope's error, code and cause
        page.fill(f"{app} .pushtest-form input[name=address]", "nobody")
        page.click(f"{app} .pushtest-form button[type=submit]")
        done("pushtest refused: INVALIDVALUE (code 400): 'push.address' is not a user of this app")

        # mark a user online, then send a message from one user to another
        tab("people")
        page.click(f'{people} button.toggle-online[data-address="bob"]')
        done("set bob online: done")
        assert {u["address"]: u["online"] for u in mock.users(token="console-token")}["bob"] is True
        settle()
        tab("apps")
        page.fill(f"{app} .message-form input[name=from]", "ann")
        page.fill(f"{app} .message-form input[name=to]", "bob")
        page.fill(f"{app} .message-form input[name=message]", "hello from the console")
        page.click(f"{app} .message-form button[type=submit]")
        done("send a message: done")
        [message] = mock.messages(token="console-token")
        assert message["message"] == "hello from the console" and message["pushes"] == []  # bob is online
        settle()
        tab("people")
        page.click(f'{people} button.toggle-online[data-address="bob"]')  # and offline again
        done("set bob offline: done")
        assert {u["address"]: u["online"] for u in mock.users(token="console-token")}["bob"] is False
        settle()
        tab("apps")

        # ... and to a group, picked from the app's groups
        mock.client.post(
            "/backend",
            json={
                "op": "groupadd",
                "token": "console-token",
                "group": {"name": "pair", "members": {"m": "ann,bob"}},
            },
        )
        page.goto(ui)  # a full load (not only a new #hash), with the new group in the list
        tab("apps")
        page.fill(f"{app} .message-form input[name=from]", "ann")
        page.select_option(f"{app} .message-form select[name=gid]", label="pair (1)")
        page.fill(f"{app} .message-form input[name=message]", "to the pair")
        page.click(f"{app} .message-form button[type=submit]")
        done("send a message: done")
        group_message = mock.messages(token="console-token")[0]
        assert group_message["gid"] == 1 and group_message["message"] == "to the pair"
        assert [mock.push(p)["address"] for p in group_message["pushes"]] == ["bob"]  # not the sender
        settle()

        # inject a fault aimed at an address with a count, list it, remove it; clear them all
        tab("faults")
        page.select_option("#fault-form select[name=error]", "QUOTA_EXCEEDED")
        page.select_option("#fault-form select[name=target]", "address")
        page.fill("#fault-form input[name=value]", "ann")
        page.fill("#fault-form input[name=count]", "2")
        page.click("#fault-form button[type=submit]")
        done("inject QUOTA_EXCEEDED: done")
        [fault] = mock.client.get("/_mock/faults").json()["faults"]
        assert (fault["error"], fault["address"], fault["count"]) == ("QUOTA_EXCEEDED", "ann", 2)
        page.wait_for_selector(f'#faults tr[data-id="{fault["id"]}"]', timeout=5000)
        page.select_option("#fault-form select[name=error]", "Unregistered")
        page.select_option("#fault-form select[name=target]", "token")
        page.fill("#fault-form input[name=value]", "console-token")
        page.check("#fault-form input[name=forever]")
        page.click("#fault-form button[type=submit]")
        done("inject Unregistered: done")
        assert mock.client.get("/_mock/faults").json()["faults"][1]["count"] is None
        page.uncheck("#fault-form input[name=forever]")
        page.select_option("#fault-form select[name=error]", "UNAVAILABLE")
        page.select_option("#fault-form select[name=target]", "push_token")
        page.fill("#fault-form input[name=value]", "fcm-bob")
        page.click("#fault-form button[type=submit]")
        done("inject UNAVAILABLE: done")
        third = mock.client.get("/_mock/faults").json()["faults"][2]
        assert (third["push_token"], third["service"], third["count"]) == ("fcm-bob", "fcm", 2)
        page.click(f'#faults button.delete-fault[data-id="{fault["id"]}"]')
        done("remove the fault: done")
        assert len(mock.client.get("/_mock/faults").json()["faults"]) == 2
        page.click("#clear-faults")
        done("clear the faults: done")
        assert mock.client.get("/_mock/faults").json()["faults"] == []

        # a backend fault from the dashboard: the next useradd answers QUOTAEXCEEDED
        page.select_option("#backend-fault-form select[name=op]", "useradd")
        page.select_option("#backend-fault-form select[name=answer]", "error:QUOTAEXCEEDED")
        page.click("#backend-fault-form button[type=submit]")
        done("set a backend fault (error:QUOTAEXCEEDED): done")
        page.wait_for_selector("#backend-faults tbody tr", timeout=5000)
        refused = mock.client.post(
            "/backend", json={"op": "useradd", "token": "console-token", "user": {"address": "x"}}
        ).json()
        assert refused["error"] == "QUOTAEXCEEDED" and refused["code"] == 503
        assert mock.client.get("/_mock/backend-faults").json()["faults"] == []

        # the clock: advance by a chosen amount, freeze, back to real time
        page.fill("#advance-amount", "2")
        page.select_option("#advance-unit", "3600")
        page.click("#advance")
        done("advance the clock: done")
        assert abs(mock.clock()["offset"] - 7200) < 60
        settle()
        page.click("#freeze")
        done("freeze the clock: done")
        assert mock.clock()["frozen"] is True
        settle()
        page.click("#real-time")
        done("back to real time: done")
        assert abs(mock.clock()["offset"]) < 5 and mock.clock()["frozen"] is False
        settle()

        tab("apps")
        if os.environ.get("MESIBO_MOCK_SCREENSHOT_CONSOLE"):
            page.locator(app).screenshot(path=os.environ["MESIBO_MOCK_SCREENSHOT_CONSOLE"] + ".png")

        # every control has a label; the page works on a narrow window
        unlabeled = page.evaluate(
            """[...document.querySelectorAll('input, select')].filter(c => c.type !== 'hidden' &&
                 !c.closest('label') && !(c.id && document.querySelector(`label[for="${c.id}"]`)) &&
                 !c.getAttribute('aria-label') && !c.placeholder).map(c => c.outerHTML)"""
        )
        assert unlabeled == []
        page.set_viewport_size({"width": 420, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= 440
        assert page.locator(f"{app} .pushtest-form").is_visible()

        # delete the app
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click(f"{app} .delete-app")
        done("delete the app: done")
        assert "console-token" not in [a["token"] for a in mock.apps()]
        page.close()


def test_the_requests_tab_marks_refused_and_diagnosed_calls_and_opens_each(browser, stack):
    stack.backend("pushset", push={"sounds": True})  # a typo Mesibo would ignore
    stack.backend("userdel", user={"address": "nobody"})  # refused
    ok = stack.backend("usersget")
    assert ok["result"] is True
    [typo] = stack.requests(op="pushset", limit=1)
    [refused] = stack.requests(op="userdel")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(stack.url + "/_mock/ui#requests")
    page.wait_for_selector(f'#requests tr.request[data-id="{refused["id"]}"].refused', timeout=5000)
    ids = [int(r.get_attribute("data-id")) for r in page.locator("#requests tr.request").all()]
    assert ids == sorted(ids, reverse=True)  # newest first
    typo_row = page.locator(f'#requests tr.request[data-id="{typo["id"]}"]')
    assert "diagnosed" in typo_row.get_attribute("class") and "refused" not in typo_row.get_attribute("class")
    assert "did you mean 'push.sound'?" in typo_row.inner_text()
    typo_row.click()
    detail = page.locator(f'tr.detail[data-request-detail="{typo["id"]}"]')
    detail.wait_for(timeout=5000)
    assert '"sounds": true' in detail.locator("pre.fields").inner_text()
    assert '"result": true' in detail.locator("pre.answer").inner_text()
    assert "unknown field" in detail.locator("ul.diagnosis").inner_text()
    assert "[redacted]" in detail.locator("pre.fields").inner_text()  # never the app token
    assert stack.app_token not in detail.inner_text()
    page.check("#request-filters input[name=diagnosed]")
    page.wait_for_function(
        "[...document.querySelectorAll('#requests tr.request')].length === 2", timeout=5000
    )
    page.close()


def test_the_events_tab_shows_each_delivery_with_its_events_and_attempts(browser, stack):
    hook = stack.webhook_receiver()
    stack.set_online("123456", True)
    hook.wait_for_events(1, type="user")
    [delivery] = stack.client.get("/_mock/deliveries").json()["deliveries"]
    stack.wait_for_webhook_attempts(1)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(stack.url + "/_mock/ui#events")
    row = page.locator(f'#deliveries tr.delivery[data-id="{delivery["id"]}"]')
    row.wait_for(timeout=5000)
    assert "user" in row.inner_text() and "delivered" in row.inner_text() and "not https" in row.inner_text()
    row.click()
    detail = page.locator(f'tr.detail[data-delivery-detail="{delivery["id"]}"]')
    detail.wait_for(timeout=5000)
    assert '"status": "online"' in detail.locator("pre.events").inner_text()
    assert "MESIBO OK" in detail.locator("pre.attempts").inner_text()
    assert "HTTPS only" in detail.inner_text()
    page.close()


@pytest.mark.parametrize("width", [1400, 420])
def test_every_tab_fits_its_window_without_sideways_scrolling(browser, stack, width):
    for i in range(30):
        stack.register_device(
            f"user-with-a-rather-long-address-{i}@example.com", "android", push_token=f"t-{'x' * 80}-{i}"
        )
    stack.backend(
        "groupadd",
        group={
            "name": "everyone",
            "members": {"m": ",".join(f"user-with-a-rather-long-address-{i}@example.com" for i in range(30))},
        },
    )
    stack.send_message("123456", gid=1, message="a message with a long text " * 10)
    stack.backend("pushtest", push={"address": "123456"})
    stack.backend("pushset", push={"sounds": True})
    stack.inject_fault("UNAVAILABLE", push_token="y" * 200)
    stack.backend_fault(error="QUOTAEXCEEDED", op="useradd", count=None)
    hook = stack.webhook_receiver()
    stack.set_online("123456", True)
    hook.wait_for_events(1)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(stack.url + "/_mock/ui")
    for tab in ("apps", "people", "messages", "pushes", "requests", "events", "faults"):
        page.click(f"#tab-{tab}")
        page.wait_for_function("document.body.dataset.refreshed", timeout=5000)
        page.wait_for_timeout(300)  # the tab's rows are in
        wide = page.evaluate(
            """[document.documentElement, ...document.querySelectorAll('table, .panel:not([hidden]) > *')]
                 .filter(e => e.offsetParent !== null || e === document.documentElement)
                 .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.id || e.className || e.tagName)"""
        )
        assert wide == [], (tab, width, wide)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()


def test_a_big_app_shows_its_first_users_and_says_how_many(browser):
    with MesiboMock() as mock:
        for start in range(0, 450, 150):
            for i in range(start, start + 150):
                mock.client.post(
                    f"/_mock/apps/{mock.app_token}/devices",
                    json={"address": f"u{i}", "platform": "android", "appid": "a.b", "push_token": f"t{i}"},
                )
        page = browser.new_page()
        page.goto(mock.url + "/_mock/ui#people")
        assert page.locator("table.users tbody tr").count() == 200
        assert "450, the first 200 shown" in page.text_content("#panel-people")
        page.close()


def test_the_upload_form_fixture_uploads_to_the_port_it_is_given(browser):
    """fixtures/upload-form.html, opened from disk as a newcomer would, with ?port= for their port."""
    from pathlib import Path

    form = Path(__file__).resolve().parents[2] / "fixtures" / "upload-form.html"
    with MesiboMock(subprocess=True, app_token="dev-token") as mock:
        page = browser.new_page()
        page.goto(f"{form.as_uri()}?port={mock.port}")
        page.set_input_files("input[name=file]", str(form.parent / "creds" / "fcm-service-account.json"))
        with page.expect_navigation():
            page.click("input[type=submit]")
        assert json.loads(page.inner_text("body"))["result"] is True
        [entry] = mock.requests(op="pushupload")
        assert entry["answer"]["result"] is True
        page.close()
