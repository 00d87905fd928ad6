"""APN push certificates in PKCS#12: open without a password and read Apple's fields."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from mesibo_mock.credentials import CredentialError, ParsedCredential, expired, fingerprint

OID_UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")
OID_SANDBOX = x509.ObjectIdentifier("1.2.840.113635.100.6.3.1")
OID_PRODUCTION = x509.ObjectIdentifier("1.2.840.113635.100.6.3.2")
OID_TOPICS = x509.ObjectIdentifier("1.2.840.113635.100.6.3.6")


def parse_apn(data: bytes, now: float) -> ParsedCredential:
    key, cert = _open(data)
    expiry = cert.not_valid_after_utc.timestamp()
    if expiry <= now:
        raise expired(expiry)
    bundle = _bundle_id(cert)
    if not bundle:
        raise CredentialError(
            "the APN certificate names no bundle id (no subject UID and no 'CN=...: <bundle>')"
        )
    oids = {ext.oid for ext in cert.extensions}
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ParsedCredential(
        platform="apn",
        key_fingerprint=fingerprint(public),
        bundle=bundle,
        sandbox=OID_SANDBOX in oids,
        production=OID_PRODUCTION in oids,
        expiry=expiry,
        topics=_topics(cert),
        team_id=_first(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
    )


def _open(data: bytes):
    if not _looks_like_pfx(data):
        if b'"service_account"' in data[:4096] and data.lstrip()[:1] == b"{":
            raise CredentialError(
                "the APN file is not a PKCS#12 (.p12) file: it looks like an FCM service-account JSON; "
                "upload it as FCM (type=fcm, or keep its .json name)"
            )
        raise CredentialError(
            "the APN file is not a PKCS#12 (.p12) file; export the certificate with its key"
        )
    last_error: Exception | None = None
    for password in (None, b""):
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            last_error = exc
            continue
        except Exception as exc:  # unsupported encryption algorithm and the like
            last_error = exc
            continue
        if key is None or cert is None:
            raise CredentialError("the APN .p12 file must hold both the certificate and its private key")
        return key, cert
    text = str(last_error).lower()
    if "password" in text or "mac" in text or "decrypt" in text:
        raise CredentialError("the APN .p12 file is password-protected; export it again without a password")
    raise CredentialError("the APN file is not a readable PKCS#12 (.p12) bundle")


def _looks_like_pfx(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    first = data[1]
    offset = 2 if first < 0x80 else 2 + (first & 0x7F)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def _bundle_id(cert: x509.Certificate) -> str:
    uid = _first(cert.subject, OID_UID)
    if uid:
        return uid.strip()
    common = _first(cert.subject, NameOID.COMMON_NAME) or ""
    _, sep, tail = common.partition(": ")
    return tail.strip() if sep else ""


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value.decode() if isinstance(value, bytes) else str(value)


def _topics(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_oid(OID_TOPICS)
    except x509.ExtensionNotFound:
        return []
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
    return [t for t in _utf8_strings(raw) if t]


def _utf8_strings(der: bytes) -> list[str]:
    """Top-level UTF8Strings of Apple's topics SEQUENCE (each followed by a SEQUENCE of its kinds)."""
    content = _children(der)
    found = []
    for tag, value in content:
        if tag == 0x0C:
            found.append(value.decode("utf-8", "replace"))
    return found


def _children(der: bytes) -> list[tuple[int, bytes]]:
    tag, body, _ = _read_tlv(der, 0)
    if tag != 0x30:
        return []
    items, pos = [], 0
    while pos < len(body):
        item_tag, value, pos = _read_tlv(body, pos)
        items.append((item_tag, value))
    return items


def _read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    if pos + 2 > len(data):
        return 0, b"", len(data)
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + length], pos + length
