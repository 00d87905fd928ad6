"""Request bodies of the /_mock API, validated by pydantic."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from mesibo_mock.redaction import holds_key


def _number_as_text(value: object) -> object:
    """An address sent as a number is kept as its decimal text, as the backend API does."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Address = Annotated[str, BeforeValidator(_number_as_text)]


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class MockBody(BaseModel):
    """A /_mock request body: unknown fields refused, and never a private key, whatever the field
    (the emulator keeps none, so none can reach a page or a log)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_private_key(cls, value: object) -> object:
        if any(holds_key(text) for text in _strings(value)):
            raise ValueError(
                "a field holds a PEM private key: the emulator keeps none (upload it with pushupload)"
            )
        return value


class DeviceIn(MockBody):
    """What the client SDK would register for a phone."""

    address: Address = Field(min_length=1, max_length=256)
    platform: Literal["android", "ios"]
    appid: str = Field(min_length=1, max_length=256)
    push_token: str = Field(min_length=1, max_length=4096)
    voip: bool = False
    sandbox: bool = False
    responds: bool = True

    @field_validator("platform", mode="before")
    @classmethod
    def _platform_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class AppCredentialsIn(MockBody):
    """Sample credentials to give a new app, as pushupload would: "sample" (fcm.json; for APN the
    universal certificate, good for either environment) or a sample's name (GET /_mock/samples)."""

    fcm: str | None = Field(default=None, max_length=100, description='"sample" or a sample name')
    apn: str | list[str] | None = Field(
        default=None, description='"sample", a sample name, or several (one per bundle id)'
    )


class AppIn(MockBody):
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="what the dashboard calls it (a test's name, as the clients give it); made when absent",
    )
    token: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._~-]+$")
    credentials: AppCredentialsIn | None = None


class AppChangeIn(MockBody):
    """What PUT /_mock/apps/{token} changes."""

    disabled: bool = Field(
        description="false lifts a TOKENBREACH (and forgets the addresses seen); true disables the app as Mesibo"
        " would"
    )


EventKind = Literal["push", "message", "user"]


class WebhookIn(MockBody):
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, max_length=500)
    events: list[EventKind] = Field(
        default=["push", "message", "user"], description="the kinds of event the webhook gets; all by default"
    )


class FaultIn(MockBody):
    error: str = Field(max_length=64)
    token: str | None = Field(default=None, max_length=200)
    address: Address | None = Field(default=None, max_length=256)
    push_token: str | None = Field(default=None, max_length=4096)
    count: int | None = Field(default=1, ge=1)


class BackendFaultIn(MockBody):
    """Make the next backend calls that match `op` and `token` fail (SPEC section 6)."""

    op: str | None = Field(default=None, max_length=64, description="only calls of this op; any when absent")
    token: str | None = Field(default=None, max_length=200, description="only calls with this app token")
    error: str | None = Field(
        default=None, max_length=32, description="answer with this row of the error table"
    )
    http: Literal[500, 502, 503, 504] | None = Field(
        default=None, description="answer with a bare HTTP status"
    )
    delay: float | None = Field(default=None, ge=0, le=60, description="seconds to wait before answering")
    count: int | None = Field(default=1, ge=1, description="how many calls; null: until removed")


class ClockIn(MockBody):
    advance: float | None = Field(default=None, ge=0, le=10 * 365 * 86400)
    set: str | None = None
    freeze: bool | None = None
    real: bool | None = None


class OnlineIn(MockBody):
    online: bool
