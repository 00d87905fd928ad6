"""httpx at its defaults (HTTP/1.1): json=, data=, params= and files=."""

import os

import httpx

URL, TOKEN, ADDRESS = os.environ["MATRIX_BACKEND"], os.environ["MATRIX_TOKEN"], os.environ["MATRIX_ADDRESS"]


def show(name, response):
    print(name, response.status_code, response.text)


with httpx.Client() as client:
    show(
        "json",
        client.post(
            URL, json={"op": "useradd", "token": TOKEN, "user": {"address": ADDRESS, "name": "json"}}
        ),
    )
    show("form", client.post(URL, data={"op": "userset", "token": TOKEN, "addr": ADDRESS, "name": "form"}))
    show("query", client.get(URL, params={"op": "usersget", "token": TOKEN, "addr": ADDRESS}))
    with open(os.environ["MATRIX_FILE"], "rb") as fh:
        files = {"file": ("fcm.json", fh, "application/json")}
        show("multipart", client.post(URL, data={"op": "pushupload", "token": TOKEN}, files=files))
