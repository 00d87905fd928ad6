"""A message to its recipients: who they are, whether each is online, and a push to every device of
each offline one (SPEC section 4).

A group is delivered in batches of members, each batch one transaction that also moves the message's
cursor: a message to a group of any size neither holds the server for long nor runs into SQLite's
limits, and after a crash its delivery resumes where the last committed batch ended. The first batch
goes with the request, so a message to up to BATCH_MEMBERS members has every record committed when
its answer leaves; the scheduler does the rest in smaller batches (LATER_BATCH), other requests
getting through between any two.
"""

from __future__ import annotations

import sqlite3

import orjson

from mesibo_mock.delivery.engine import Round
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, groups, messages, people

BATCH_MEMBERS = 1000
LATER_BATCH = 250  # ~10 ms each: the longest any other request waits behind a large group's delivery


def deliver(
    rt: Runtime, app: sqlite3.Row, message: sqlite3.Row, outbox=None, batch: int = BATCH_MEMBERS
) -> bool:
    """Deliver the next `batch` members of `message` in the caller's transaction; -> whether more
    is owed."""
    now = rt.clock.now()
    if message["gid"] is not None:
        recipients, devices, cursor = _group_batch(rt, message, batch)
    else:
        recipients, devices, cursor = _listed(rt, app, message)
    # Real time only (expiry 0), or past its expiry: an offline recipient gets nothing, not even later.
    for_offline = message["expiry"] > 0 and now < message["ts"] + message["expiry"]
    if devices and for_offline:
        sender = people.user_by_address(rt, app["id"], message["from_address"])
        title = messages.push_title(
            message["title"], sender["name"] if sender else None, message["from_address"]
        )
        rnd = Round(rt, app, outbox)
        for device in devices:
            rnd.add(device, "message", message["message"], title=title, mid=message["id"])
        rnd.send()
    messages.add_recipients(rt, message, [(r["address"], bool(r["online"])) for r in recipients])
    if outbox is not None and for_offline:
        offline = [r for r in recipients if not r["online"]]
        if offline:
            outbox.offline_message(app, message, offline)
    messages.mark_delivered(rt, message, cursor)
    return cursor is not None


def _group_batch(
    rt: Runtime, message: sqlite3.Row, size: int
) -> tuple[list[sqlite3.Row], list[sqlite3.Row], int | None]:
    """The next `size` members that can receive, except the sender (unless the group loops messages
    back, flag 0x80): -> (recipients, the devices of the offline ones, the cursor to go on from or None
    when this batch is the last). A round-robin group (flag 0x20) has one recipient per message."""
    group = groups.delivery_flags(rt, message["gid"])
    flag = group["flag"] if group is not None else 0
    if flag & groups.FLAG_ROUND_ROBIN:
        return _next_in_turn(rt, message, group["rr_last"] or 0)
    after = message["cursor"] or 0
    # only the members there were when it was sent: one removed and added again meanwhile has a newer
    # membership, and is not reached twice
    upto = message["last_member"] if message["last_member"] is not None else 2**63 - 1
    ids = groups.receiving_memberships(rt, message["gid"], after, upto, size + 1)
    if not ids:
        return [], [], None
    last = ids[:size][-1]
    # the sender is left out unless the group loops messages back to it [real: the messaging page]
    sender = "" if flag & groups.FLAG_LOOPBACK else message["from_address"]
    recipients, devices = groups.receivers_between(rt, message["gid"], after, last, sender)
    return recipients, devices, last if len(ids) > size else None


def _next_in_turn(rt: Runtime, message: sqlite3.Row, last: int) -> tuple[list, list, None]:
    """Flag 0x20: the one member after the last one reached (oldest first, wrapping round), among those
    who can receive, leaving out the sender [real: the messaging page's round robin]."""
    sender = message["from_address"]
    turn = groups.next_in_turn(rt, message["gid"], sender, last)
    if turn is None:
        return [], [], None
    recipients, devices = groups.receiver_at(rt, message["gid"], turn, sender)
    return recipients, devices, None


def _listed(
    rt: Runtime, app: sqlite3.Row, message: sqlite3.Row
) -> tuple[list[sqlite3.Row], list[sqlite3.Row], None]:
    """The active users named in `to`, in the order named, and the devices of the offline ones."""
    addresses: list[str] = orjson.loads(message["to_list"] or "[]")
    found, devices = people.active_among(rt, app["id"], addresses, messages.CHUNK)
    order = {a: i for i, a in enumerate(addresses)}
    devices.sort(key=lambda d: (order[d["address"]], d["id"]))
    return [found[a] for a in addresses if a in found], devices, None


class Turns:
    """Whose message gets the next batch: the apps owing one take turns."""

    def __init__(self) -> None:
        self.last: str | None = None


def deliver_due(rt: Runtime, outbox, turns: Turns | None = None) -> bool:
    """One batch of the next app's oldest message whose delivery is owed and due (scheduled, or a
    large group under way); -> whether more is owed now. Called by the scheduler, batch after batch;
    with `turns`, the apps that owe one take turns."""
    message = messages.next_due_after(rt, rt.clock.now(), turns.last if turns is not None else None)
    if message is None:
        return False
    if turns is not None:
        turns.last = message["app_token"]
    app = apps.by_token(rt, message["app_token"])
    if app is None:  # its app was deleted: nothing to deliver to
        messages.mark_delivered(rt, message, None)
        return True
    deliver(rt, app, message, outbox, LATER_BATCH)
    return True
