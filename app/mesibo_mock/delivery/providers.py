"""FCM and APNs behind one small interface, as LocalStack keeps a publisher per protocol: which credential
a device's push uses, the request Mesibo would make, the checks the provider makes itself, its success
answer and its answer to a fault. The engine decides one push without knowing which provider it is."""

from __future__ import annotations

import sqlite3
from typing import Protocol

from mesibo_mock.delivery import apns, faults, fcm
from mesibo_mock.delivery.content import Push

HEX = "0123456789abcdefABCDEF"


class Provider(Protocol):
    name: str  # what a push record's `service` says: "fcm" or "apn"
    no_credentials: str  # the reason of a push no credential can send

    def credential(self, creds, device: sqlite3.Row) -> sqlite3.Row | None: ...

    def render(self, push: Push, device: sqlite3.Row, cred: sqlite3.Row | None, sandbox: bool) -> dict: ...

    def refusal(
        self, push: Push, device: sqlite3.Row, cred: sqlite3.Row, request: dict, sandbox: bool, now: float
    ) -> tuple[str, dict] | None: ...

    def success(self, push: Push, cred: sqlite3.Row, now: float) -> dict: ...

    def fault_answer(self, reason: str, now: float) -> dict: ...


class Fcm:
    """Firebase Cloud Messaging, HTTP v1: Android devices, and iOS devices under `iosfcm`."""

    name = "fcm"
    no_credentials = "NO_FCM_CREDENTIALS"

    def credential(self, creds, device: sqlite3.Row) -> sqlite3.Row | None:
        return creds.fcm

    def render(self, push: Push, device: sqlite3.Row, cred: sqlite3.Row | None, sandbox: bool) -> dict:
        project_id = cred["project_id"] if cred is not None else fcm.ANY_PROJECT
        return fcm.render(
            push, device["push_token"], project_id, ios=device["platform"] == "ios", topic=device["appid"]
        )

    def refusal(
        self, push: Push, device: sqlite3.Row, cred: sqlite3.Row, request: dict, sandbox: bool, now: float
    ) -> tuple[str, dict] | None:
        if not push.surely_fits(fcm.MAX_PAYLOAD) and fcm.payload_size(request) > fcm.MAX_PAYLOAD:
            response = faults.fault_response("INVALID_ARGUMENT", now)
            response["body"]["error"]["message"] = "Message is too big"
            return "INVALID_ARGUMENT", response
        return None

    def success(self, push: Push, cred: sqlite3.Row, now: float) -> dict:
        return fcm.success(cred["project_id"], f"0:{int(now * 1000)}%{push.message_id}")

    def fault_answer(self, reason: str, now: float) -> dict:
        return faults.fault_response(reason, now)


class Apns:
    """Apple Push Notification service over HTTP/2: iOS devices, with the credential whose bundle id (or
    topics) matches the device's app id."""

    name = "apn"
    no_credentials = "NO_APN_CREDENTIALS"

    def credential(self, creds, device: sqlite3.Row) -> sqlite3.Row | None:
        return creds.apn_for(device["appid"])

    def render(self, push: Push, device: sqlite3.Row, cred: sqlite3.Row | None, sandbox: bool) -> dict:
        return apns.render(push, device["push_token"], device["appid"], sandbox)

    def refusal(
        self, push: Push, device: sqlite3.Row, cred: sqlite3.Row, request: dict, sandbox: bool, now: float
    ) -> tuple[str, dict] | None:
        reason = self._reason(push, device, cred, request, sandbox, now)
        if reason is None:
            return None
        return reason, apns.error(faults.FAULTS[reason].status, reason, apns.new_apns_id())

    @staticmethod
    def _reason(
        push: Push, device: sqlite3.Row, cred: sqlite3.Row, request: dict, sandbox: bool, now: float
    ) -> str | None:
        if cred["expiry"] is not None and cred["expiry"] <= now:
            return "BadCertificate"
        if not (cred["sandbox"] if sandbox else cred["production"]):
            return "BadCertificateEnvironment"
        token = device["push_token"]
        if not token or token.strip(HEX):  # what is left once hex digits are stripped from both ends
            return "BadDeviceToken"
        limit = apns.payload_limit(push)
        if not push.surely_fits(limit) and apns.payload_size(request) > limit:
            return "PayloadTooLarge"
        return None

    def success(self, push: Push, cred: sqlite3.Row, now: float) -> dict:
        return apns.success(apns.new_apns_id())

    def fault_answer(self, reason: str, now: float) -> dict:
        return faults.fault_response(reason, now, apns.new_apns_id())


PROVIDERS: dict[str, Provider] = {"fcm": Fcm(), "apn": Apns()}
