"""What a push says, shared by the FCM and APNs renderers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Push:
    push_type: str  # background | alert | voip
    kind: str  # test | fallback
    message_id: str
    title: str = "mesibo"
    body: str = "Test notification from mesibo"
    collapse: bool = False
    sound: bool = False

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
        return {"source": "mesibo", "kind": self.kind, "message_id": self.message_id}
