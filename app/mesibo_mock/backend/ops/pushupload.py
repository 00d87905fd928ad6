"""pushupload: an FCM service-account JSON or an APN .p12, parsed for real and kept without its key."""

from __future__ import annotations

from mesibo_mock.backend.ops import OpContext, OpDoc, string
from mesibo_mock.backend.parsing import UploadedFile
from mesibo_mock.backend.reading import Fields
from mesibo_mock.credentials import P8_REFUSED, CredentialError, isolated
from mesibo_mock.errors import MISSINGPARAMS, MesiboError, bad_value, missing
from mesibo_mock.redaction import holds_key
from mesibo_mock.services import credentials
from mesibo_mock.values import describe

EXTENSIONS = {".json": "fcm", ".p12": "apn"}


def detect_type(filename: str, explicit: object) -> str:
    """`type` (any case) overrides the file extension."""
    if explicit not in (None, ""):
        kind = str(explicit).strip().lower() if isinstance(explicit, str) else None
        if kind not in ("fcm", "apn"):
            raise bad_value("type", "must be 'fcm' or 'apn'")
        return kind
    for ext, kind in EXTENSIONS.items():
        if filename.lower().endswith(ext):
            return kind
    if filename.lower().endswith(".p8"):
        raise bad_value("file", P8_REFUSED)
    raise bad_value(
        "type", f"is needed: cannot tell FCM from APN by the file name {filename!r} (use .json or .p12)"
    )


async def handle(ctx: OpContext, fields: Fields) -> dict:
    upload = fields.raw("file")  # a file part, read as it came: pushupload judges its form itself
    if isinstance(upload, str) and upload:
        shown = "holding a PEM private key (not shown)" if holds_key(upload) else describe(upload)
        raise MesiboError(
            MISSINGPARAMS,
            problems=[
                {
                    "field": "file",
                    "problem": f"arrived as the text {shown}, not as a file",
                    "hint": "send multipart/form-data with a file part (with curl: -F file=@path, not -d)",
                }
            ],
            properties=["file"],
        )
    if not isinstance(upload, UploadedFile) or not upload.filename:
        raise missing("file")
    kind = detect_type(upload.filename, fields.raw("type"))
    if not upload.content:
        raise bad_value("file", f"is empty ({upload.filename!r})")
    try:
        parsed = await isolated.parse_file(kind, upload.content, ctx.rt.clock.now(), ctx.rt.parser_slots)
    except CredentialError as exc:
        raise bad_value("file", f"is refused: {exc}") from None
    credentials.save(ctx.rt, ctx.app["id"], parsed, "api", upload.filename)
    in_use = credentials.InUse(ctx.rt, ctx.app["id"])
    if kind == "fcm":
        return {"push": credentials.fcm_view(in_use.fcm)}
    return {"push": credentials.apn_view(in_use.apn_for(parsed.bundle))}


DOCS = {
    "pushupload": OpDoc(
        summary="Upload an FCM service-account JSON or an APN .p12 certificate (multipart)",
        fields={
            "file": string("the credential file: .json is FCM, .p12 is APN", format="binary"),
            "type": string("fcm or apn, to override the file name's extension", enum=["fcm", "apn"]),
        },
        required=("file",),
        example={"file": "fcm-service-account.json"},
        answer={
            "push": {
                "type": "fcm",
                "project_id": "mesibo-mock-demo",
                "client_email": "firebase-adminsdk-demo@mesibo-mock-demo.iam.gserviceaccount.com",
            }
        },
        errors=("MISSINGPARAMS", "BADVALUE", "BADPAYLOAD"),
    )
}
