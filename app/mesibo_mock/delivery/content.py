"""What a push says, shared by the FCM and APNs renderers."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TITLE = "mesibo"
DEFAULT_BODY = "Test notification from mesibo"


@dataclass(slots=True)
class Push:
    push_type: str  # background | alert | voip
    kind: str  # test | message | fallback
    message_id: str
    title: str = DEFAULT_TITLE
    body: str = DEFAULT_BODY
    collapse: bool = False
    sound: bool = False
    mid: int | None = None  # the message a push carries

    def surely_fits(self, limit: int) -> bool:
        """True when the payload cannot reach `limit` bytes, so measuring it can be skipped: the text
        appears at most twice, a character encodes to at most 12 bytes (a \\u-escaped surrogate
        pair), and everything else in a payload stays under 1 KB."""
        return 2 * 12 * (len(self.title) + len(self.body)) + 1024 < limit

    @property
    def collapse_id(self) -> str:
        return "mesibo"

    def aps(self) -> dict:
        if self.push_type == "alert":
            aps: dict = {"alert": {"title": self.title, "body": self.body}}
            if self.sound:
                aps["sound"] = "default"
            return aps
        return {"content-available": 1}

    def priority(self) -> str:
        return "5" if self.push_type == "background" else "10"

    def data(self) -> dict[str, str]:
        """FCM data values must be strings; a data-only push carries the text for the app to show."""
        data = {"source": "mesibo", "kind": self.kind, "message_id": self.message_id}
        if self.mid is not None:
            data["mid"] = str(self.mid)
        if self.push_type != "alert":
            data |= {"title": self.title, "body": self.body}
        return data

    def apns_body(self) -> dict:
        """A VoIP push, and a background push of a message, wake the app with their data: the text
        travels beside `aps`. A message push always names its `mid`, so the app can open it."""
        body: dict = {"aps": self.aps()}
        if self.push_type == "voip" or (self.mid is not None and self.push_type == "background"):
            body["mesibo"] = {"kind": self.kind, "title": self.title, "body": self.body}
        elif self.mid is not None:
            body["mesibo"] = {"kind": self.kind}
        if self.mid is not None:
            body["mesibo"]["mid"] = self.mid
        return body
