"""Stored credentials: save a parsed one, pick the one in use, summarise without secrets."""

from __future__ import annotations

import json
import sqlite3

from mesibo_mock.clock import iso
from mesibo_mock.credentials import ParsedCredential
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.store.db import as_dict

# An API upload wins over the seed ("console") one for the same platform and bundle id [doc].
SOURCE_RANK = "CASE source WHEN 'api' THEN 0 ELSE 1 END"


def save(rt: Runtime, app_id: int, cred: ParsedCredential, source: str, filename: str | None) -> None:
    """One FCM credential per app and source; one APN credential per bundle id and source."""
    values = {
        "app_id": app_id,
        "platform": cred.platform,
        "bundle": cred.bundle,
        "source": source,
        "project_id": cred.project_id,
        "client_email": cred.client_email,
        "sandbox": cred.sandbox,
        "production": cred.production,
        "expiry": cred.expiry,
        "topics": json.dumps(cred.topics),
        "team_id": cred.team_id,
        "key_fingerprint": cred.key_fingerprint,
        "filename": filename,
        "uploaded": rt.clock.now(),
    }
    with rt.store.tx() as conn:
        if cred.platform == "fcm":
            conn.execute(
                "DELETE FROM credentials WHERE app_id = ? AND platform = 'fcm' AND source = ?",
                (app_id, source),
            )
        else:
            conn.execute(
                "DELETE FROM credentials WHERE app_id = ? AND platform = 'apn' AND bundle = ? AND source = ?",
                (app_id, cred.bundle, source),
            )
        rt.store.insert("credentials", values)


class InUse:
    """The credentials an app uses, read in one query; an API upload beats the seed's [doc].

    Made once per request, so a pushtest to several devices reads them once.
    """

    COLUMNS = (
        "platform, bundle, source, project_id, client_email, sandbox, production, expiry, topics, team_id"
    )
    # The same query also says whether any fault is armed (a row of platform 'faults'): on the
    # pushtest path every statement counts (bench/).
    WITH_FAULTS = (
        f"SELECT {COLUMNS}, {SOURCE_RANK} AS rank FROM credentials WHERE app_id = ?"
        " UNION ALL SELECT 'faults', '', '', NULL, NULL, 0, 0, NULL, '[]', NULL, 0"
        " WHERE EXISTS (SELECT 1 FROM faults) ORDER BY platform, bundle, rank"
    )

    def __init__(self, rt: Runtime, app_id: int, *, with_faults: bool = False) -> None:
        if with_faults:
            rows = rt.store.all(self.WITH_FAULTS, (app_id,))
            self.faults_armed = any(r["platform"] == "faults" for r in rows)
        else:
            rows = rt.store.all(
                f"SELECT {self.COLUMNS} FROM credentials WHERE app_id = ? ORDER BY platform, bundle, {SOURCE_RANK}",
                (app_id,),
            )
        rows = [as_dict(row) for row in rows]  # memoized: read by name at every push
        self.fcm: sqlite3.Row | None = next((r for r in rows if r["platform"] == "fcm"), None)
        by_bundle: dict[str, sqlite3.Row] = {}
        for row in rows:
            if row["platform"] == "apn":
                by_bundle.setdefault(row["bundle"], row)
        self.apns: list[sqlite3.Row] = list(by_bundle.values())

    @classmethod
    def memoized(cls, rt: Runtime, app_id: int) -> InUse:
        """The credentials and "is any fault armed", read again only after either table changed: a
        pushtest is 7-13% faster without the query (bench/, docs/benchmark.md)."""
        return rt.store.memo(("credentials in use", app_id), lambda: cls(rt, app_id, with_faults=True))

    def apn_for(self, appid: str) -> sqlite3.Row | None:
        """The credential whose bundle id, or else one of whose topics, is the device's app id."""
        for row in self.apns:
            if row["bundle"] == appid:
                return row
        for row in self.apns:
            if appid in json.loads(row["topics"]):
                return row
        return None


def forget_seeded(rt: Runtime, app_id: int) -> None:
    """The seed's credentials of an app: read again from the seed at each start."""
    rt.store.run("DELETE FROM credentials WHERE app_id = ? AND source = 'seed'", (app_id,))


def fcm_view(row: sqlite3.Row) -> dict:
    return {"type": "fcm", "project_id": row["project_id"], "client_email": row["client_email"]}


def apn_view(row: sqlite3.Row) -> dict:
    return {
        "type": "apn",
        "bundle": row["bundle"],
        "sandbox": bool(row["sandbox"]),
        "production": bool(row["production"]),
        "expiry": iso(row["expiry"]),
        "topics": json.loads(row["topics"]),
        "team_id": row["team_id"],
    }


def summary(rt: Runtime, app_id: int) -> dict:
    in_use = InUse(rt, app_id)
    fcm = in_use.fcm
    fcm_entry = None
    if fcm is not None:
        fcm_entry = {k: v for k, v in fcm_view(fcm).items() if k != "type"} | {"source": fcm["source"]}
    apn_entries = [
        {k: v for k, v in apn_view(row).items() if k != "type"} | {"source": row["source"]}
        for row in in_use.apns
    ]
    return {"fcm": fcm_entry, "apn": apn_entries}
