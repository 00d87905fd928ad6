"""Sample push credentials made with `cryptography`, for fixtures, users' tests and `/_mock/samples`.

They have the shape of the real files (a Firebase service-account key, Apple push certificates in
PKCS#12) but are signed by no one: good for this emulator, useless against Google or Apple.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from mesibo_mock.credentials.apn import OID_PRODUCTION, OID_SANDBOX, OID_TOPICS, OID_UID

__all__ = [
    "apn_certificate",
    "apn_development",
    "apn_expired",
    "apn_key_p8",
    "apn_p12",
    "apn_production",
    "apn_universal",
    "fcm",
    "fcm_service_account",
    "openssl_legacy_p12",
    "pem_pair",
    "topics_extension",
]

DER_NULL = b"\x05\x00"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def fcm_service_account(
    project_id: str = "mesibo-mock-demo", *, key: rsa.RSAPrivateKey | None = None
) -> bytes:
    key = key or _key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": f"firebase-adminsdk-demo@{project_id}.iam.gserviceaccount.com",
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/demo",
        "universe_domain": "googleapis.com",
    }
    return json.dumps(account, indent=2).encode()


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def topics_extension(bundle: str) -> bytes:
    """Apple's 1.2.840.113635.100.6.3.6 value: each topic followed by a SEQUENCE of its kinds."""
    parts = b""
    for topic, kind in (
        (bundle, "app"),
        (bundle + ".voip", "voip"),
        (bundle + ".complication", "complication"),
    ):
        parts += _tlv(0x0C, topic.encode()) + _tlv(0x30, _tlv(0x0C, kind.encode()))
    return _tlv(0x30, parts)


def apn_certificate(
    bundle: str = "com.example.app",
    *,
    sandbox: bool = True,
    production: bool = False,
    topics: bool = True,
    uid: bool = True,
    team_id: str = "ABCDE12345",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = key or _key()
    now = dt.datetime.now(dt.UTC)
    label = "Apple Push Services" if production else "Apple Development IOS Push Services"
    subject_attrs = [x509.NameAttribute(OID_UID, bundle)] if uid else []
    subject_attrs += [
        x509.NameAttribute(NameOID.COMMON_NAME, f"{label}: {bundle}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Inc"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ]
    issuer = x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, "Apple Worldwide Developer Relations Certification Authority"
            ),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Apple Inc. (mesibo-mock sample)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject_attrs))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=365 * 10))
    )
    if sandbox:
        builder = builder.add_extension(x509.UnrecognizedExtension(OID_SANDBOX, DER_NULL), critical=False)
    if production:
        builder = builder.add_extension(x509.UnrecognizedExtension(OID_PRODUCTION, DER_NULL), critical=False)
    if topics:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(OID_TOPICS, topics_extension(bundle)), critical=False
        )
    return key, builder.sign(key, hashes.SHA256())


def apn_p12(
    bundle: str = "com.example.app", *, password: bytes | None = None, legacy: bool = False, **kw
) -> bytes:
    """A .p12 file; `legacy` (3DES, SHA-1 MAC) needs a password, as `cryptography` cannot write an
    empty one: `openssl_legacy_p12` makes the password-less RC2/3DES export Keychain Access makes."""
    key, cert = apn_certificate(bundle, **kw)
    if legacy:
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(password or b"legacy")
        )
    elif password:
        encryption = serialization.BestAvailableEncryption(password)
    else:
        encryption = serialization.NoEncryption()
    return pkcs12.serialize_key_and_certificates(bundle.encode(), key, cert, None, encryption)


def pem_pair(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> tuple[bytes, bytes]:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def openssl_legacy_p12(bundle: str = "com.example.app", **kw) -> bytes | None:
    """A password-less RC2-40/3DES export made by `openssl pkcs12 -legacy`; None without openssl."""
    import os
    import shutil
    import subprocess
    import tempfile

    openssl = shutil.which("openssl")
    if not openssl:
        return None
    key, cert = apn_certificate(bundle, **kw)
    key_pem, cert_pem = pem_pair(key, cert)
    with tempfile.TemporaryDirectory() as tmp:
        key_path, cert_path = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
        with open(key_path, "wb") as fh:
            fh.write(key_pem)
        with open(cert_path, "wb") as fh:
            fh.write(cert_pem)
        done = subprocess.run(
            [
                openssl,
                "pkcs12",
                "-export",
                "-legacy",
                "-inkey",
                key_path,
                "-in",
                cert_path,
                "-passout",
                "pass:",
            ],
            capture_output=True,
            check=False,
        )
    return done.stdout if done.returncode == 0 and done.stdout else None


# --- ready-made samples, for users' tests: `from mesibo_mock import samples` -------------------------
# Each is made once per process (an RSA key takes a moment) and returned as the file's bytes, ready for
# MesiboMock.upload_credential(samples.fcm(), "fcm") or a multipart `pushupload` of your own.


@functools.cache
def fcm(project_id: str = "mesibo-mock-demo") -> bytes:
    """A Firebase service-account key (.json) for `project_id`."""
    return fcm_service_account(project_id)


@functools.cache
def apn_development(bundle: str = "com.example.app") -> bytes:
    """An APN push certificate (.p12, no password) for the sandbox, valid ten years."""
    return apn_p12(bundle, sandbox=True, production=False)


@functools.cache
def apn_production(bundle: str = "com.example.app") -> bytes:
    """An APN push certificate (.p12, no password) for production only."""
    return apn_p12(bundle, sandbox=False, production=True)


@functools.cache
def apn_universal(bundle: str = "com.example.app") -> bytes:
    """An APN push certificate (.p12, no password) for both environments, as Apple issues today."""
    return apn_p12(bundle, sandbox=True, production=True)


@functools.cache
def apn_expired(bundle: str = "com.example.app") -> bytes:
    """An APN push certificate that expired in 2020: pushupload refuses it (BADVALUE)."""
    return apn_p12(
        bundle,
        not_before=dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


@functools.cache
def apn_key_p8() -> bytes:
    """An APNs token-signing key (.p8, an EC P-256 key in PKCS#8), as Apple's developer site issues one.
    Mesibo takes a .p12 certificate, not a .p8 key: pushupload refuses it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
