"""Retention's rules, on a store filled directly: what is kept, what goes, and what never goes."""

from __future__ import annotations

import pytest

from mesibo_mock.clock import Clock
from mesibo_mock.store import retention
from mesibo_mock.store.db import Store
from mesibo_mock.store.retention import Retention
from tests.unit.stores import store_with_two_apps

KEEP = 5


@pytest.fixture
def store(tmp_path):
    store = store_with_two_apps(str(tmp_path / "r.db"))
    yield store
    store.close()


def prune_all(rules: Retention) -> None:
    while rules.prune_batch():
        pass


def message(store: Store, token: str, recipients: int, pending: bool = False) -> int:
    app_id = 1 if token == "ta" else 2
    with store.tx():
        mid = store.insert(
            "messages",
            {"ts": 0.0, "app_id": app_id, "app_token": token, "from_address": "s", "type": 0, "message": "m",
             "pending": pending},
        )  # fmt: skip
        store.conn.executemany(
            "INSERT INTO message_recipients (mid, app_token, address, online) VALUES (?, ?, ?, 0)",
            [(mid, token, f"r{i}") for i in range(recipients)],
        )
    return mid


def journal(store: Store, app_id: int | None, count: int) -> None:
    with store.tx():
        for _ in range(count):
            store.run(
                "INSERT INTO journal (ts, app_id, encoding, path, user_agent, fields, answer, result)"
                " VALUES (0, ?, 'json', '/backend', '', '{}', '{}', 1)",
                (app_id,),
            )


def count(store: Store, sql: str, *args) -> int:
    return store.one(sql, args)[0]


def test_each_app_keeps_its_newest_journal_entries_and_calls_naming_no_app_count_as_one(store):
    journal(store, 1, 12)
    journal(store, 2, 3)
    journal(store, None, 9)
    prune_all(Retention(store, KEEP))
    assert count(store, "SELECT COUNT(*) FROM journal WHERE app_id = 1") == KEEP
    assert count(store, "SELECT MIN(id) FROM journal WHERE app_id = 1") == 12 - KEEP + 1  # the newest
    assert count(store, "SELECT COUNT(*) FROM journal WHERE app_id = 2") == 3
    assert count(store, "SELECT COUNT(*) FROM journal WHERE app_id IS NULL") == KEEP


def test_a_store_at_its_bound_keeps_exactly_the_newest_rows_round_after_round(store):
    """Counts are kept running, and the cutoff is found from the oldest end by the excess alone:
    round after round, with owners' rows interleaved, each keeps exactly its newest KEEP."""
    rules = Retention(store, KEEP)
    queries: list[str] = []
    written = {1: [], 2: [], None: []}
    for round_ in range(6):
        for owner, rows in ((1, 3), (None, 4), (2, 2), (1, 1)):
            for _ in range(rows):
                journal(store, owner, 1)
                written[owner].append(store.one("SELECT MAX(id) FROM journal")[0])
        store.conn.set_trace_callback(queries.append)
        prune_all(rules)
        store.conn.set_trace_callback(None)
        for owner, ids in written.items():
            kept = [r[0] for r in store.all("SELECT id FROM journal WHERE app_id IS ? ORDER BY id", (owner,))]
            assert kept == ids[-KEEP:], (round_, owner)
    cutoffs = [q for q in queries if "OFFSET" in q]
    assert cutoffs and not any("DESC" in q for q in cutoffs), cutoffs


def test_a_message_goes_with_its_recipients_and_one_being_delivered_stays(store):
    owed = message(store, "ta", 2, pending=True)
    old = [message(store, "ta", 2) for _ in range(3)]
    newest = [message(store, "ta", 2) for _ in range(KEEP)]
    prune_all(Retention(store, KEEP))
    kept = [r[0] for r in store.all("SELECT id FROM messages ORDER BY id")]
    assert kept == [owed, *newest]
    assert not set(old) & {r[0] for r in store.all("SELECT DISTINCT mid FROM message_recipients")}
    assert count(store, "SELECT COUNT(*) FROM message_recipients WHERE mid = ?", owed) == 2


def test_recipients_past_their_budget_take_older_messages_but_the_newest_stays_whole(store):
    budget = KEEP * retention.RECIPIENT_BUDGET
    older = message(store, "ta", budget // 2)
    big = message(store, "ta", budget * 3)  # one broadcast larger than the whole budget
    prune_all(Retention(store, KEEP))
    assert [r[0] for r in store.all("SELECT id FROM messages")] == [big]
    assert count(store, "SELECT COUNT(*) FROM message_recipients WHERE mid = ?", big) == budget * 3
    assert count(store, "SELECT COUNT(*) FROM message_recipients WHERE mid = ?", older) == 0


def test_otps_and_webhook_rows_are_kept_per_app(store):
    with store.tx():
        for i in range(9):
            store.insert("otps", {"app_id": 1, "address": f"a{i}", "code": "1", "tries": 0, "expires": 0.0,
                                  "created": 0.0})  # fmt: skip
            store.run(
                "INSERT INTO webhook_deliveries (app_token, seq, url, payload, event_count, attempts, state,"
                " created) VALUES ('tb', ?, 'u', '{}', 1, 0, 'failed', 0)",
                (i,),
            )
            store.run(
                "INSERT INTO webhook_events (delivery_id, app_token, type, body, ts) VALUES (?, 'tb', 'user', '{}', 0)",
                (i,),
            )
    prune_all(Retention(store, KEEP))
    assert count(store, "SELECT COUNT(*) FROM otps") == KEEP
    assert count(store, "SELECT COUNT(*) FROM webhook_deliveries") == KEEP
    assert count(store, "SELECT COUNT(*) FROM webhook_events") == KEEP


def test_rows_of_an_app_deleted_since_are_pruned(store):
    journal(store, 1, 12)
    with store.tx():
        store.run("DELETE FROM apps WHERE id = 1")
    prune_all(Retention(store, KEEP))
    assert count(store, "SELECT COUNT(*) FROM journal") == KEEP


def test_only_owners_whose_rows_grew_are_looked_at_again(store):
    journal(store, 1, 12)
    rules = Retention(store, KEEP)
    prune_all(rules)
    queries: list[str] = []
    store.conn.set_trace_callback(queries.append)
    try:
        rules.prune_batch()  # nothing grew: one look at each table's newest id, no owner's rows
        assert not any("GROUP BY" in q or "OFFSET" in q for q in queries), queries
        journal(store, 1, 3)
        queries.clear()
        prune_all(rules)
        assert any("GROUP BY" in q for q in queries) and count(store, "SELECT COUNT(*) FROM journal") == KEEP
    finally:
        store.conn.set_trace_callback(None)


def test_test_pushes_are_dropped_once_the_window_has_passed(store):
    clock = Clock()
    clock.freeze(True)
    now = clock.now()
    with store.tx():
        for ts in (now - 7200, now - 3601, now - 10):
            store.insert("testpushes", {"app_id": 1, "ts": ts})
    prune_all(Retention(store, KEEP, testpush_window=3600, clock=clock))
    assert [r[0] for r in store.all("SELECT ts FROM testpushes")] == [now - 10]


def test_retention_0_keeps_everything(store):
    journal(store, 1, 12)
    rules = Retention(store, 0)
    assert not rules.due()


def test_a_table_emptied_meanwhile_is_looked_at_again_from_its_start(store):
    journal(store, 1, 12)
    rules = Retention(store, KEEP)
    prune_all(rules)
    store.wipe()  # a reset: the journal's ids start again from 1, up to where they were
    journal(store, 1, 12)
    prune_all(rules)
    assert count(store, "SELECT COUNT(*) FROM journal") == KEEP
