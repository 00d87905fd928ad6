"""/_mock/samples: the sample credential files `mesibo_mock.samples` makes, for clients in any language
(a Node or PHP test uploads them, or names them in `POST /_mock/apps`)."""

# No `from __future__ import annotations`: FastAPI would have to eval() every annotation at start-up.

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from starlette.responses import Response

from mesibo_mock.credentials import SAMPLES, CredentialError
from mesibo_mock.server.responses import json_response
from mesibo_mock.services import samples

router = APIRouter(prefix="/_mock")


@router.get("/samples", tags=["samples"])
async def list_samples():
    """The sample credential files: a Firebase service account, APN certificates (development,
    production, universal, expired) and an APNs .p8 key. Signed by no one: good for this emulator,
    useless against Google or Apple. Each is made once per machine and kept in the user's cache folder."""
    return json_response({"samples": samples.listing()})


@router.get("/samples/{name}", tags=["samples"])
async def get_sample(name: Annotated[str, Path(max_length=100, description="a sample's file name")]):
    """One sample file, as pushupload takes it (a multipart `file` part with this name)."""
    try:
        content = await samples.file(name)
    except samples.UnknownSample as exc:
        raise HTTPException(404, f"name: {exc}") from None
    except CredentialError as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(
        content,
        media_type=SAMPLES[name].media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
