// axios (from npm) at its defaults on Node: objects as JSON, URLSearchParams as a form, params, FormData.
import { readFileSync } from "node:fs";
import axios from "axios";
const url = process.env.MATRIX_BACKEND, token = process.env.MATRIX_TOKEN, address = process.env.MATRIX_ADDRESS;
const show = (name, response) => console.log(`${name} ${response.status} ${JSON.stringify(response.data)}`);
show("json", await axios.post(url, { op: "useradd", token, user: { address, name: "json" } }));
show("form", await axios.post(url, new URLSearchParams({ op: "userset", token, addr: address, name: "form" })));
show("query", await axios.get(url, { params: { op: "usersget", token, addr: address } }));
const form = new FormData();
form.append("op", "pushupload");
form.append("token", token);
form.append("file", new Blob([readFileSync(process.env.MATRIX_FILE)], { type: "application/json" }), "fcm.json");
show("multipart", await axios.post(url, form));
