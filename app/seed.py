"""The seed file (SPEC section 7): read and checked once at start, applied at start and after reset."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field

from pydantic import ValidationError

from app.credentials import CredentialError, ParsedCredential
from app.runtime import Runtime
from app.schemas import DeviceIn, SeedFile
from app.services import apps, credentials, people

log = logging.getLogger("mesibo_mock")


class SeedError(Exception):
    """One line saying what is wrong with the seed file."""


@dataclass
class Seed:
    path: str
    spec: SeedFile
    creds: dict[int, list[tuple[ParsedCredential, str]]] = field(default_factory=dict)  # app index ->


def load_seed(path: str, now: float) -> Seed:
    import yaml  # only a seeded start pays for it

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw) if path.lower().endswith(".json") else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SeedError(f"seed file {path} is not valid YAML/JSON: {first}") from None
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
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SeedError(f"seed file {path}: {where}: {err['msg']}") from None
    seed = Seed(path=path, spec=spec)
    base = os.path.dirname(os.path.abspath(path))
    for index, app in enumerate(spec.apps):
        files = ([("fcm", app.credentials.fcm)] if app.credentials.fcm else []) + [
            ("apn", p) for p in app.credentials.apn
        ]
        for kind, rel in files:
            seed.creds.setdefault(index, []).append((_credential(path, base, kind, rel, now), rel))
    return seed


def _credential(seed_path: str, base: str, kind: str, rel: str, now: float) -> ParsedCredential:
    full = os.path.join(base, rel)
    try:
        with open(full, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SeedError(
            f"seed file {seed_path}: cannot read {kind} credential {full}: {exc.strerror}"
        ) from None
    from app.credentials.apn import parse_apn
    from app.credentials.fcm import parse_fcm

    try:
        return parse_fcm(data) if kind == "fcm" else parse_apn(data, now)
    except CredentialError as exc:
        raise SeedError(f"seed file {seed_path}: {kind} credential {rel}: {exc}") from None


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
                    apps.set_webhook(rt, app, spec.webhook.url, spec.webhook.secret)
            rt.store.run("DELETE FROM credentials WHERE app_id = ? AND source = 'seed'", (app["id"],))
            for parsed, rel in seed.creds.get(index, []):
                credentials.save(rt, app["id"], parsed, "seed", os.path.basename(rel))
            for user in spec.users:
                if people.user_by_address(rt, app["id"], user.address) is None:
                    people.add_user(rt, app["id"], user.address, name=user.name)
                for device in user.devices:
                    known = rt.store.one(
                        "SELECT id FROM devices WHERE app_id = ? AND push_token = ?",
                        (app["id"], device["push_token"]),
                    )
                    if known is None:
                        people.register_device(
                            rt,
                            app["id"],
                            DeviceIn.model_validate({**device, "address": user.address}).model_dump(),
                        )
            log.info("seed: app %r ready (token: %s)", spec.name, app["token"])


def ensure_default_app(rt: Runtime) -> str:
    """MESIBO_MOCK_APP_TOKEN names the default app; without it, an empty store gets a random one."""
    token = rt.settings.app_token
    with rt.store.tx():
        if token:
            app = apps.by_token(rt, token) or apps.create(rt, "default", token)
        else:
            existing = apps.list_all(rt)
            named = [a for a in existing if a["name"] == "default"]
            app = (named or existing or [None])[0] or apps.create(rt, "default")
    log.info("default app %r, app token: %s", app["name"], app["token"])
    return app["token"]
