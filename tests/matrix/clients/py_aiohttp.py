"""aiohttp's client at its defaults: json=, data= (a form), params= and FormData."""

import asyncio
import os

import aiohttp

URL, TOKEN, ADDRESS = os.environ["MATRIX_BACKEND"], os.environ["MATRIX_TOKEN"], os.environ["MATRIX_ADDRESS"]


async def main():
    async with aiohttp.ClientSession() as session:

        async def show(name, request):
            async with request as response:
                print(name, response.status, await response.text())

        user = {"address": ADDRESS, "name": "json"}
        await show("json", session.post(URL, json={"op": "useradd", "token": TOKEN, "user": user}))
        await show(
            "form", session.post(URL, data={"op": "userset", "token": TOKEN, "addr": ADDRESS, "name": "form"})
        )
        await show("query", session.get(URL, params={"op": "usersget", "token": TOKEN, "addr": ADDRESS}))
        form = aiohttp.FormData()
        form.add_field("op", "pushupload")
        form.add_field("token", TOKEN)
        with open(os.environ["MATRIX_FILE"], "rb") as fh:
            form.add_field("file", fh, filename="fcm.json", content_type="application/json")
            await show("multipart", session.post(URL, data=form))


asyncio.run(main())
