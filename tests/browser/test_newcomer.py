"""What a newcomer sees in the dashboard (issue 33): it opens on what happened, every table names the
app, the headers never break inside a word, and a message opens to its timeline. With
MESIBO_MOCK_SCREENSHOTS=1 the timeline test also writes docs/timeline-1400.png and docs/timeline-420.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.scale import big_group_store
from mesibo_mock.testing import MesiboMock
from tests.browser.test_dashboard import browser  # noqa: F401  (the fixture)

DOCS = Path(__file__).resolve().parents[2] / "docs"
WIDTHS = (1400, 420)


def open_ui(browser, mock, width: int = 1400, fragment: str = ""):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(mock.url + "/_mock/ui" + fragment)
    page.wait_for_function("document.body.dataset.refreshed", timeout=5000)
    return page


def eventually(check, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def selected_tab(page) -> str:
    return page.get_attribute("[role=tab][aria-selected=true]", "data-tab")


def test_it_opens_on_apps_before_any_call_and_on_requests_after_one(browser):  # noqa: F811
    with MesiboMock() as mock:
        page = open_ui(browser, mock)
        assert selected_tab(page) == "apps"
        page.close()
        mock.backend("useradd", user={"address": "ann"})
        page = open_ui(browser, mock)
        assert selected_tab(page) == "requests" and page.evaluate("location.hash") == "#requests"
        page.wait_for_selector("#requests tr.request", timeout=5000)
        assert page.locator("#panel-requests").is_visible() and not page.locator("#panel-apps").is_visible()
        # a tab chosen keeps its place across a reload (the fragment)
        page.click("#tab-messages")
        page.reload()
        page.wait_for_function("document.body.dataset.refreshed", timeout=5000)
        assert selected_tab(page) == "messages"
        page.close()


def two_apps_talking(mock: MesiboMock) -> dict[str, str]:
    """Two named apps, each with a message, a call and a webhook delivery; -> token: name."""
    names = {mock.app_token: "default"}
    other = mock.create_app("Second Shop", token="second-shop-token", credentials="sample").token
    names[other] = "Second Shop"
    for token in names:
        for address in ("ann", "bob"):
            mock.backend("useradd", token=token, user={"address": address})
        mock.register_device("bob", "android", token=token)  # offline with a phone: a push record
        mock.webhook_receiver(token=token)
        mock.backend("message", token=token, message={"from": "ann", "to": "bob", "message": "hi"})
    return names


def test_every_table_names_the_app_with_its_token_on_hover(browser):  # noqa: F811
    with MesiboMock() as mock:
        names = two_apps_talking(mock)
        eventually(lambda: len(mock.webhook_attempts(all_apps=True)) >= 2)
        page = open_ui(browser, mock)
        for tab, rows in (
            ("messages", "#messages tr.message"),
            ("requests", "#requests tr.request"),
            ("events", "#deliveries tr.delivery"),
            ("pushes", "#pushes tr.record"),
        ):
            page.click(f"#tab-{tab}")
            page.wait_for_selector(rows, timeout=5000)
            cells = page.eval_on_selector_all(
                f"{rows} td[data-label=app] .app-name", "cells => cells.map(c => [c.textContent, c.title])"
            )
            shown = {title: text for text, title in cells}
            assert shown == names, (tab, cells)
        page.close()


def test_headers_never_break_inside_a_word_and_one_name_for_webhooks(browser):  # noqa: F811
    with MesiboMock() as mock:
        two_apps_talking(mock)
        page = open_ui(browser, mock)
        assert page.inner_text("#tab-events") == "Webhooks"
        assert page.inner_text("#panel-events h2").startswith("Webhooks")
        for tab in ("messages", "pushes", "requests", "events", "faults"):
            page.click(f"#tab-{tab}")
            page.wait_for_function("document.body.dataset.refreshed", timeout=5000)
            broken = page.evaluate(
                """() => {
                  const probe = document.createElement('span');
                  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
                  document.body.append(probe);
                  const found = [];
                  for (const th of document.querySelectorAll('.panel:not([hidden]) th')) {
                    if (!th.offsetParent) continue;
                    const style = getComputedStyle(th);
                    probe.style.font = style.font;
                    const room = th.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                    for (const word of th.textContent.split(/\\s+/).filter(Boolean)) {
                      probe.textContent = word;
                      if (probe.offsetWidth > room + 0.5) found.push(word);
                    }
                  }
                  probe.remove();
                  return found;
                }"""
            )
            assert broken == [], (tab, broken)
        page.close()


def no_overflow(page) -> list[str]:
    return page.evaluate(
        """[document.documentElement, ...document.querySelectorAll('table, figure, .panel:not([hidden]) > *')]
             .filter(e => e.offsetParent !== null || e === document.documentElement)
             .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.id || e.className || e.tagName)"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_a_message_opens_to_its_timeline_with_the_offline_recipients_push_and_webhook_event(
    browser,  # noqa: F811
    width,
):
    with MesiboMock() as mock:
        mock.create_app("Shop", token="shop-token", credentials="sample")
        for address in ("ann", "bob", "cat"):
            mock.backend("useradd", token="shop-token", user={"address": address, "name": address.title()})
        mock.register_device("bob", "android", token="shop-token")  # offline, with a phone: pushed
        mock.set_online("cat", True, token="shop-token")  # online: gets it at once, no push
        hook = mock.webhook_receiver(token="shop-token")
        message = {"from": "ann", "to": "bob,cat", "message": "hello bob"}
        mid = mock.backend("message", token="shop-token", message=message)["mid"]
        hook.wait_for_events(2)
        eventually(lambda: any(a["ok"] for a in mock.webhook_attempts(token="shop-token")))
        page = open_ui(browser, mock, width, "#messages")
        page.click(f'#messages tr.message[data-mid="{mid}"]')
        figure = page.wait_for_selector(f'[data-timeline="{mid}"]', timeout=5000)
        rows = page.eval_on_selector_all(
            f'[data-timeline="{mid}"] li',
            "rows => rows.map(r => [r.dataset.kind, r.dataset.state, r.textContent])",
        )
        kinds = [(kind, state) for kind, state, _ in rows]
        assert kinds[0] == ("call", "ok")
        assert ("recipient", "offline") in kinds and ("recipient", "online") in kinds
        [push] = [text for kind, _, text in rows if kind == "push"]
        assert "to bob" in push and "FCM answered 200" in push
        events = [text for kind, _, text in rows if kind == "event"]
        assert any("offline message to bob" in text for text in events), events
        assert any("push #" in text for text in events), events
        assert ("attempt", "ok") in kinds
        assert "Shop" in figure.inner_text() and "1 offline" in figure.inner_text()
        # the steps are in time order, and every dot sits on the axis
        offsets = page.eval_on_selector_all(
            f'[data-timeline="{mid}"] .tl-dot', "dots => dots.map(d => parseFloat(d.style.left))"
        )
        assert offsets == sorted(offsets) and all(0 <= x <= 100 for x in offsets)
        assert no_overflow(page) == [], width
        if os.environ.get("MESIBO_MOCK_SCREENSHOTS") == "1":
            figure.scroll_into_view_if_needed()
            page.screenshot(path=str(DOCS / f"timeline-{width}.png"), full_page=False)
        page.close()


def test_a_1000_member_message_is_drawn_as_counts_per_kind(browser, tmp_path):  # noqa: F811
    db = str(tmp_path / "big.db")
    gid = big_group_store(db, 1000, device_every=1)
    with MesiboMock(db=db, app_token="big-token") as mock:
        mock.backend("pushset", push={"ratelimit": False})
        mid = mock.backend("message", message={"from": "sender", "gid": gid, "message": "all"})["mid"]
        timeline = mock.client.get(f"/_mock/messages/{mid}/timeline").json()
        assert timeline["detailed"] is False and timeline["counts"]["recipients"] == 1000
        page = open_ui(browser, mock, 1400, "#messages")
        page.click(f'#messages tr.message[data-mid="{mid}"]')
        page.wait_for_selector(f'[data-timeline="{mid}"]', timeout=5000)
        rows = page.eval_on_selector_all(
            f'[data-timeline="{mid}"] li', "rows => rows.map(r => [r.dataset.kind, r.textContent])"
        )
        # the counts per kind, then the first 50 rows of each kind (SPEC section 6), never all 1,000
        per_kind = {kind: sum(1 for k, _ in rows if k == kind) for kind, _ in rows}
        assert per_kind["recipient"] == 50 and per_kind["push"] == 50, per_kind
        assert all(n <= 50 for n in per_kind.values()), per_kind
        kinds = dict(rows)
        assert "1,000 recipients" in kinds["recipients"]
        assert "1,000 pushes (1,000 failed)" in kinds["pushes"]  # the store has no credential
        page.close()


def test_a_message_has_its_own_url_even_past_the_first_page_and_apps_show_their_tests_name(browser):  # noqa: F811
    """Issue 40, friction 8: `#messages/{mid}` opens that message's timeline (a link in a report or a chat
    reaches it), however old; opening a message puts its URL in the address bar; an app a test made
    shows that test's name."""
    with MesiboMock() as mock:
        app = mock.create_app(credentials="sample")  # named after this test, as every client names it
        for address in ("ann", "bob"):
            app.backend("useradd", user={"address": address})
        first = app.send_message("ann", "bob", "the first")
        for n in range(100):  # the Messages tab lists the newest 100: the first is past them
            app.send_message("ann", "bob", f"later {n}")
        page = open_ui(browser, mock, 1400, f"#messages/{first}")
        assert selected_tab(page) == "messages"
        figure = page.wait_for_selector(f'[data-timeline="{first}"]', timeout=5000)
        assert "message " + str(first) in figure.inner_text()
        assert page.eval_on_selector(f"#message-{first}", "row => row.classList.contains('focus')")
        name = page.eval_on_selector(f"#message-{first} .app-name", "cell => cell.textContent")
        assert name == app.name and "test_newcomer.py::test_a_message_has_its_own_url" in name
        newest = app.messages(limit=1)[0]["mid"]
        page.click(f'#messages tr.message[data-mid="{newest}"]')
        page.wait_for_selector(f'[data-timeline="{newest}"]', timeout=5000)
        assert page.evaluate("location.hash") == f"#messages/{newest}"
        page.close()
