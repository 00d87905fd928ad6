"""Long-poll waiters: a new record wakes exactly the waiters whose filters it meets."""

from __future__ import annotations

import asyncio

from mesibo_mock.server.waiters import Waiter, Waiters


def run(coroutine):
    return asyncio.run(coroutine)


async def start_polls(waiters: Waiters, filters_list: list[dict]) -> tuple[list[asyncio.Task], list[int]]:
    queries = [0] * len(filters_list)

    def query_for(i: int):
        def query() -> list:
            queries[i] += 1
            return ["found"] if queries[i] > 1 else []

        return query

    tasks = [
        asyncio.create_task(waiters.poll("pushes", filters, query_for(i), wait=30))
        for i, filters in enumerate(filters_list)
    ]
    await asyncio.sleep(0)  # each runs its query once and waits
    return tasks, queries


def test_a_record_wakes_only_the_waiters_it_matches():
    async def scenario():
        waiters = Waiters()
        filters = [
            {"address": "a", "app_token": None},
            {"address": "b"},
            {"app_token": "t", "address": "a"},
            {"app_token": "u", "address": "a"},
            {},
        ]
        tasks, queries = await start_polls(waiters, filters)
        assert queries == [1, 1, 1, 1, 1] and len(waiters) == 5
        waiters.changed("pushes", [{"address": "a", "app_token": "t", "extra": [1, 2]}])
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert queries == [2, 1, 2, 1, 2]  # b and the other app's waiter were not woken
        assert len(waiters) == 2
        waiters.changed("messages", [{"address": "b"}])  # another kind wakes nobody
        await asyncio.sleep(0)
        assert queries[1] == 1
        waiters.changed("pushes", None)  # a reset: everyone looks again
        await asyncio.gather(*tasks)
        assert queries == [2, 2, 2, 2, 2] and len(waiters) == 0

    run(scenario())


def test_a_thousand_waiters_on_other_addresses_are_not_looked_at(monkeypatch):
    compared = []
    matches = Waiter.matches

    def counting(self, record):
        compared.append(self)
        return matches(self, record)

    monkeypatch.setattr(Waiter, "matches", counting)

    async def scenario():
        waiters = Waiters()
        tasks, _queries = await start_polls(waiters, [{"address": f"idle-{i}"} for i in range(1000)])
        waiters.changed("pushes", [{"address": "someone-else", "app_token": "t"}])
        waiters.changed("pushes", [{"address": "idle-7", "app_token": "t"}])
        assert len(compared) == 1  # only idle-7's waiter was even compared
        waiters.stop()
        await asyncio.gather(*tasks)

    run(scenario())
