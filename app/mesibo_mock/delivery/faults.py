"""Every injectable APNs reason and FCM errorCode, with its real HTTP status and body: one table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultKind:
    service: str  # "apn" | "fcm"
    status: int
    message: str = ""  # FCM's error.message
    grpc_status: str = ""  # FCM's error.status


def _apns(status: int) -> FaultKind:
    return FaultKind("apn", status)


def _fcm(status: int, grpc: str, message: str) -> FaultKind:
    return FaultKind("fcm", status, message, grpc)


FAULTS: dict[str, FaultKind] = {
    # APNs reasons (Apple: "Handling notification responses from APNs")
    **{
        reason: _apns(400)
        for reason in (
            "BadCollapseId",
            "BadDeviceToken",
            "BadExpirationDate",
            "BadMessageId",
            "BadPriority",
            "BadTopic",
            "DeviceTokenNotForTopic",
            "DuplicateHeaders",
            "IdleTimeout",
            "InvalidPushType",
            "MissingDeviceToken",
            "MissingTopic",
            "PayloadEmpty",
            "TopicDisallowed",
        )
    },
    **{
        reason: _apns(403)
        for reason in (
            "BadCertificate",
            "BadCertificateEnvironment",
            "ExpiredProviderToken",
            "Forbidden",
            "InvalidProviderToken",
            "MissingProviderToken",
        )
    },
    "BadPath": _apns(404),
    "MethodNotAllowed": _apns(405),
    "Unregistered": _apns(410),
    "ExpiredToken": _apns(410),
    "PayloadTooLarge": _apns(413),
    "TooManyProviderTokenUpdates": _apns(429),
    "TooManyRequests": _apns(429),
    "InternalServerError": _apns(500),
    "ServiceUnavailable": _apns(503),
    "Shutdown": _apns(503),
    # FCM HTTP v1 errorCodes (Firebase: "ErrorCode")
    "INVALID_ARGUMENT": _fcm(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "UNREGISTERED": _fcm(404, "NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": _fcm(403, "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": _fcm(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests' of service fcm.googleapis.com.",
    ),
    "UNAVAILABLE": _fcm(503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": _fcm(500, "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": _fcm(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}

# After these the token is dead until the device registers again.
INVALIDATING = frozenset({"Unregistered", "ExpiredToken", "UNREGISTERED"})


def fault_response(name: str, now: float, apns_id: str | None = None) -> dict:
    """The status, headers and body the real service answers with for this error."""
    kind = FAULTS[name]
    if kind.service == "apn":
        body: dict = {"reason": name}
        if kind.status == 410:
            body["timestamp"] = int(now * 1000)
        return {"status": kind.status, "headers": {"apns-id": apns_id} if apns_id else {}, "body": body}
    return {
        "status": kind.status,
        "headers": {"content-type": "application/json; charset=UTF-8"},
        "body": {
            "error": {
                "code": kind.status,
                "message": kind.message,
                "status": kind.grpc_status,
                "details": [
                    {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": name}
                ],
            }
        },
    }
