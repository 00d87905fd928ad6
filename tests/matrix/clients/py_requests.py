"""requests at its defaults: json=, data=, params= and files=."""

import os

import requests

URL, TOKEN, ADDRESS = os.environ["MATRIX_BACKEND"], os.environ["MATRIX_TOKEN"], os.environ["MATRIX_ADDRESS"]


def show(name, response):
    print(name, response.status_code, response.text)


show(
    "json",
    requests.post(URL, json={"op": "useradd", "token": TOKEN, "user": {"address": ADDRESS, "name": "json"}}),
)
show("form", requests.post(URL, data={"op": "userset", "token": TOKEN, "addr": ADDRESS, "name": "form"}))
show("query", requests.get(URL, params={"op": "usersget", "token": TOKEN, "addr": ADDRESS}))
with open(os.environ["MATRIX_FILE"], "rb") as fh:
    files = {"file": ("fcm.json", fh, "application/json")}
    show("multipart", requests.post(URL, data={"op": "pushupload", "token": TOKEN}, files=files))
