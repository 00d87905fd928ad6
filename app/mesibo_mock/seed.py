"""The seed file (SPEC section 7): read and checked once at start, applied at start and after reset.

Imported only when a seed is configured.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mesibo_mock.credentials import CredentialError, ParsedCredential, isolated
from mesibo_mock.errors import BY_ERROR_NAME, SeedError
from mesibo_mock.schemas import Address, BackendFaultIn, DeviceIn, WebhookIn
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import apps, backend_faults, credentials, groups, people

log = logging.getLogger("mesibo_mock")


class SeedUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Address
    name: str | None = None
    devices: list[dict] = []


class SeedMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Address
    cs: bool = True
    cr: bool = True


class SeedGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    members: list[SeedMember | Address] = []


class SeedCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fcm: str | None = None
    apn: list[str] = []

    @field_validator("apn", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class SeedApp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    token: str | None = None
    push: dict[str, bool] = {}
    credentials: SeedCredentials = SeedCredentials()
    webhook: WebhookIn | None = None
    users: list[SeedUser] = []
    groups: list[SeedGroup] = []


class SeedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apps: list[SeedApp] = []
    backend_faults: list[BackendFaultIn] = []


@dataclass
class Seed:
    path: str
    spec: SeedFile
    creds: dict[int, list[tuple[ParsedCredential, str]]] = field(default_factory=dict)  # app index ->


MAX_SEED_BYTES = 4 * 1024 * 1024


def load_seed(path: str, now: float, max_credential_bytes: int) -> Seed:
    import yaml  # only a seeded start pays for it

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SEED_BYTES + 1)
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SEED_BYTES:
        raise SeedError(f"seed file {path} is larger than {MAX_SEED_BYTES} bytes")
    try:
        data = json.loads(raw) if path.lower().endswith(".json") else yaml.load(raw, Loader=_bounded_loader())
    except RecursionError:
        raise SeedError(f"seed file {path} is nested too deeply") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(
            f"seed file {path} is not valid {'JSON' if path.lower().endswith('.json') else 'YAML'}: {_where(exc)}"
        ) from None
    try:
        spec = SeedFile.model_validate(data or {})
        for app in spec.apps:
            for user in app.users:
                for device in user.devices:
                    DeviceIn.model_validate({**device, "address": user.address})
            unknown = set(app.push) - set(apps.OPTION_DEFAULTS)
            if unknown:
                raise SeedError(
                    f"seed file {path}: app {app.name!r} has unknown push options {sorted(unknown)}"
                )
        for index, fault in enumerate(spec.backend_faults):
            if fault.error is not None and fault.error not in BY_ERROR_NAME:
                raise SeedError(
                    f"seed file {path}: backend_faults.{index}.error: unknown error {fault.error!r}"
                )
            if fault.error is None and fault.http is None and fault.delay is None:
                raise SeedError(f"seed file {path}: backend_faults.{index}: give error, http or delay")
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SeedError(f"seed file {path}: {where}: {err['msg']}") from None
    seed = Seed(path=path, spec=spec)
    base = os.path.dirname(os.path.abspath(path))
    wanted = [
        (index, kind, rel)
        for index, app in enumerate(spec.apps)
        for kind, rel in ([("fcm", app.credentials.fcm)] if app.credentials.fcm else [])
        + [("apn", p) for p in app.credentials.apn]
    ]
    if wanted:
        files = [
            (kind, _read_credential(path, os.path.join(base, rel), kind, max_credential_bytes))
            for _, kind, rel in wanted
        ]
        try:
            parsed = isolated.parse_files(files, now)
        except CredentialError as exc:
            raise SeedError(f"seed file {path}: {exc}") from None
        for (index, kind, rel), result in zip(wanted, parsed, strict=True):
            if isinstance(result, CredentialError):
                raise SeedError(f"seed file {path}: {kind} credential {rel}: {result}")
            seed.creds.setdefault(index, []).append((result, rel))
    return seed


MAX_EXPANDED_NODES = 100_000  # a seed is small; a "billion laughs" file expands one alias a billion times


def _bounded_loader():
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """yaml.safe_load's loader, refusing a document whose aliases (*name) would expand it past
        MAX_EXPANDED_NODES: nine lines of nested aliases can stand for gigabytes."""

        def construct_document(self, node):
            sizes: dict[int, int] = {}

            def expanded(n) -> int:
                if id(n) not in sizes:
                    sizes[id(n)] = 1  # a cycle counts once
                    children = n.value if isinstance(n, yaml.SequenceNode) else []
                    if isinstance(n, yaml.MappingNode):
                        children = [part for pair in n.value for part in pair]
                    sizes[id(n)] = min(1 + sum(expanded(c) for c in children), 10**12)
                return sizes[id(n)]

            if expanded(node) > MAX_EXPANDED_NODES:
                raise yaml.YAMLError(
                    f"its aliases (*name) expand it to more than {MAX_EXPANDED_NODES:,} values: refused"
                )
            return super().construct_document(node)

    return BoundedLoader


def _where(exc: Exception) -> str:
    """The parser's problem and where it is, in one line: 'line 3, column 12: ...'."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return problem


def _read_credential(seed_path: str, full: str, kind: str, limit: int) -> bytes:
    """A regular file within the upload limit (not /dev/zero, not a 10 GB file)."""
    try:
        if not stat.S_ISREG(os.stat(full).st_mode):
            raise SeedError(f"seed file {seed_path}: {kind} credential {full} is not a regular file")
        with open(full, "rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise SeedError(
                f"seed file {seed_path}: {kind} credential {full} is larger than the upload limit of {limit} bytes"
            )
        return data
    except OSError as exc:
        raise SeedError(
            f"seed file {seed_path}: cannot read {kind} credential {full}: {exc.strerror}"
        ) from None


def apply_seed(rt: Runtime, seed: Seed | None) -> None:
    """Create what is missing; never overwrite what the API changed since (options, users)."""
    if seed is None:
        return
    with rt.store.tx():
        for index, spec in enumerate(seed.spec.apps):
            app = apps.by_token(rt, spec.token) if spec.token else None
            if app is None:
                app = apps.create(rt, spec.name, spec.token, spec.push)
                if spec.webhook:
                    apps.set_webhook(rt, app, spec.webhook.url, spec.webhook.secret, spec.webhook.events)
            credentials.forget_seeded(rt, app["id"])
            for parsed, rel in seed.creds.get(index, []):
                credentials.save(rt, app["id"], parsed, "seed", os.path.basename(rel))
            for user in spec.users:
                if people.user_by_address(rt, app["id"], user.address) is None:
                    people.add_user(rt, app["id"], user.address, name=user.name)
                for device in user.devices:
                    if people.device_with_token(rt, app["id"], device["push_token"]) is None:
                        people.register_device(
                            rt,
                            app["id"],
                            DeviceIn.model_validate({**device, "address": user.address}).model_dump(),
                        )
            for group in spec.groups:
                _seed_group(rt, app, group)
            log.info("seed: app %r ready (token: %s)", spec.name, app["token"])
        if seed.spec.backend_faults and not backend_faults.listed(rt):
            for fault in seed.spec.backend_faults:
                backend_faults.add(rt, **fault.model_dump())


def _seed_group(rt: Runtime, app, group: SeedGroup) -> None:
    """A group named in the seed is made once: a restart finds it by name and leaves it as the API left it."""
    if groups.named(rt, app["id"], group.name) is not None:
        return
    gid = groups.create(rt, app["id"], name=group.name)
    row = groups.by_gid(rt, app["id"], gid)
    for member in group.members:
        member = member if isinstance(member, SeedMember) else SeedMember(address=member)
        groups.add_members(rt, row, [member.address], groups.Rights(cs=member.cs, cr=member.cr))
