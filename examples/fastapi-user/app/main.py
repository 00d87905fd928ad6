"""The code under test: a chat backend that calls Mesibo's backend API for users, groups and messages."""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="my chat backend")


def mesibo(op: str, **fields) -> dict:
    """One call to Mesibo's backend API (or to mesibo-mock, in tests)."""
    body = {"op": op, "token": os.environ["MESIBO_APP_TOKEN"], **fields}
    answer = httpx.post(os.environ["MESIBO_API_URL"], json=body, timeout=10).json()
    if not answer["result"]:
        raise HTTPException(502, f"mesibo refused {op}: {answer['error']} {answer.get('cause', '')}")
    return answer


class Signup(BaseModel):
    phone: str
    name: str


class Team(BaseModel):
    name: str
    members: list[str]


class Chat(BaseModel):
    sender: str
    text: str


@app.post("/signup")
def signup(body: Signup) -> dict:
    user = mesibo(
        "useradd", user={"address": body.phone, "name": body.name, "token": {"appid": "com.example.chat"}}
    )
    return {"uid": user["user"]["uid"], "mesibo_token": user["user"]["token"]}


@app.post("/teams")
def create_team(body: Team) -> dict:
    group = mesibo("groupadd", group={"name": body.name, "members": {"m": ",".join(body.members)}})
    return {"gid": group["group"]["gid"]}


@app.post("/teams/{gid}/messages")
def post_to_team(gid: int, body: Chat) -> dict:
    sent = mesibo("message", message={"from": body.sender, "gid": gid, "message": body.text})
    return {"mid": sent["mid"]}
