"""Python's urllib.request at its defaults: it has no multipart of its own, so the form is written out."""

import json
import os
import urllib.parse
import urllib.request
import uuid

URL, TOKEN, ADDRESS = os.environ["MATRIX_BACKEND"], os.environ["MATRIX_TOKEN"], os.environ["MATRIX_ADDRESS"]


def call(name, request):
    with urllib.request.urlopen(request) as response:
        print(name, response.status, response.read().decode())


body = json.dumps({"op": "useradd", "token": TOKEN, "user": {"address": ADDRESS, "name": "json"}}).encode()
call("json", urllib.request.Request(URL, data=body, headers={"Content-Type": "application/json"}))
form = urllib.parse.urlencode({"op": "userset", "token": TOKEN, "addr": ADDRESS, "name": "form"}).encode()
call("form", urllib.request.Request(URL, data=form))
call("query", URL + "?" + urllib.parse.urlencode({"op": "usersget", "token": TOKEN, "addr": ADDRESS}))
boundary = uuid.uuid4().hex
parts = [
    f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for k, v in (("op", "pushupload"), ("token", TOKEN))
]
with open(os.environ["MATRIX_FILE"], "rb") as fh:
    content = fh.read()
parts.append(
    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="fcm.json"\r\n'
    "Content-Type: application/json\r\n\r\n".encode()
    + content
    + f"\r\n--{boundary}--\r\n".encode()
)
headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
call("multipart", urllib.request.Request(URL, data=b"".join(parts), headers=headers))
