"""Crash safety under concurrent write load (SIGKILL), and the limits exact with 20+ concurrent callers."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from mesibo_mock import samples
from mesibo_mock.testing import MesiboMock


def test_every_acknowledged_write_survives_sigkill_under_concurrent_load(tmp_path):
    db = str(tmp_path / "crash.db")
    certificates = [samples.apn_p12(f"com.crash.app{i}") for i in range(12)]
    acked = {"users": set(), "devices": set(), "bundles": set(), "pushes": set(), "sound": []}
    stop = threading.Event()
    lock = threading.Lock()

    with MesiboMock(subprocess=True, db=db, mode="onprem") as mock:
        url, token = mock.backend_url, mock.app_token
        mock.backend("pushset", push={"ratelimit": False})
        mock.register_device("seed-user", "android", push_token="seed-device")

        def users(worker: int) -> None:
            with httpx.Client(timeout=10) as client:
                n = 0
                while not stop.is_set():
                    address = f"u{worker}-{n}"
                    try:
                        body = client.post(
                            url, json={"op": "useradd", "token": token, "user": {"address": address}}
                        ).json()
                        device = client.post(
                            f"{mock.url}/_mock/apps/{token}/devices",
                            json={
                                "address": address,
                                "platform": "android",
                                "appid": "a",
                                "push_token": f"t-{address}",
                            },
                        )
                    except httpx.HTTPError:
                        return
                    with lock:
                        if body.get("result"):
                            acked["users"].add(address)
                        if device.status_code == 201:
                            acked["devices"].add(f"t-{address}")
                    n += 1

        def pushes() -> None:
            with httpx.Client(timeout=10) as client:
                while not stop.is_set():
                    try:
                        body = client.post(
                            url, json={"op": "pushtest", "token": token, "push": {"address": "seed-user"}}
                        ).json()
                    except httpx.HTTPError:
                        return
                    if body.get("result"):
                        with lock:
                            acked["pushes"].update(r["id"] for r in body["push"]["results"])

        def options() -> None:
            with httpx.Client(timeout=10) as client:
                value = False
                while not stop.is_set():
                    value = not value
                    with lock:
                        acked["sound"].append(("trying", value))
                    try:
                        body = client.post(
                            url, json={"op": "pushset", "token": token, "push": {"sound": value}}
                        ).json()
                    except httpx.HTTPError:
                        return
                    if body.get("result"):
                        with lock:
                            acked["sound"].append(("acked", value))

        def uploads() -> None:
            with httpx.Client(timeout=10) as client:
                for i, data in enumerate(certificates):
                    if stop.is_set():
                        return
                    try:
                        body = client.post(
                            url,
                            data={"op": "pushupload", "token": token},
                            files={"file": (f"c{i}.p12", data)},
                        ).json()
                    except httpx.HTTPError:
                        return
                    if body.get("result"):
                        with lock:
                            acked["bundles"].add(body["push"]["bundle"])

        threads = [threading.Thread(target=users, args=(i,)) for i in range(4)]
        threads += [threading.Thread(target=pushes) for _ in range(2)]
        threads += [threading.Thread(target=options), threading.Thread(target=uploads)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acked["pushes"]) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(mock._proc.pid, signal.SIGKILL)  # in the middle of the load
        mock._proc.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=15)

    assert len(acked["users"]) > 20 and len(acked["pushes"]) > 20 and acked["bundles"]

    with MesiboMock(subprocess=True, db=db, mode="onprem") as again:
        users_now = {u["address"] for u in again.users()}  # usersget answers 20 at most
        devices_now = {d["push_token"] for d in again.devices()}
        bundles_now = {c["bundle"] for c in again.app()["credentials"]["apn"]}
        push_ids_now = {p["id"] for p in again.pushes(limit=1000)}
        while len(push_ids_now) % 1000 == 0 and push_ids_now:
            more = {p["id"] for p in again.pushes(limit=1000, after=max(push_ids_now))}
            if not more:
                break
            push_ids_now |= more
        sound_now = again.app()["push"]["sound"]

    assert acked["users"] <= users_now
    assert acked["devices"] <= devices_now
    assert acked["bundles"] <= bundles_now
    assert acked["pushes"] <= push_ids_now
    acked_values = [v for state, v in acked["sound"] if state == "acked"]
    tried_after_last_ack = [v for state, v in acked["sound"][len(acked["sound"]) - 2 :] if state == "trying"]
    assert sound_now in {acked_values[-1], *tried_after_last_ack}


def test_debug_window_rule_is_exact_with_25_concurrent_callers():
    with MesiboMock(subprocess=True) as mock:

        def call(_):
            with httpx.Client(timeout=30) as client:
                return client.post(
                    mock.backend_url,
                    json={"op": "pushdebug", "token": mock.app_token, "push": {"duration": 600}},
                ).json()

        with ThreadPoolExecutor(max_workers=25) as pool:
            answers = list(pool.map(call, range(25)))
    assert sum(a["result"] for a in answers) == 1
    assert sum(a.get("error") == "RATELIMITED" for a in answers) == 24


def test_test_push_limit_is_exact_with_25_concurrent_callers_across_two_apps():
    with MesiboMock(subprocess=True, env={"TESTPUSH_LIMIT": "5/3600"}) as mock:
        other = mock.create_app("other", "other-token").token
        for token in (mock.app_token, other):
            mock.register_device("1", "android", token=token)

        def call(i):
            token = mock.app_token if i % 2 else other
            with httpx.Client(timeout=30) as client:
                return token, client.post(
                    mock.backend_url, json={"op": "pushtest", "token": token, "push": {"address": "1"}}
                ).json()

        with ThreadPoolExecutor(max_workers=26) as pool:
            answers = list(pool.map(call, range(26)))
    for token in (mock.app_token, other):
        assert sum(a["result"] for t, a in answers if t == token) == 5
