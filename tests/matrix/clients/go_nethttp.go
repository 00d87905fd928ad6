// Go's net/http at its defaults (http.DefaultClient): http.Post, http.PostForm, http.Get, mime/multipart.
package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
)

// show("json")(http.Post(...)): Go passes a call's two results only as a call's whole argument list.
func show(name string) func(*http.Response, error) {
	return func(response *http.Response, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer response.Body.Close()
		body, _ := io.ReadAll(response.Body)
		fmt.Println(name, response.StatusCode, string(body))
	}
}

func main() {
	backend, token, address := os.Getenv("MATRIX_BACKEND"), os.Getenv("MATRIX_TOKEN"), os.Getenv("MATRIX_ADDRESS")
	json := fmt.Sprintf(`{"op":"useradd","token":%q,"user":{"address":%q,"name":"json"}}`, token, address)
	show("json")(http.Post(backend, "application/json", strings.NewReader(json)))
	show("form")(http.PostForm(backend, url.Values{"op": {"userset"}, "token": {token}, "addr": {address}, "name": {"form"}}))
	show("query")(http.Get(backend + "?" + url.Values{"op": {"usersget"}, "token": {token}, "addr": {address}}.Encode()))
	var body bytes.Buffer
	writer := multipart.NewWriter(&body)
	writer.WriteField("op", "pushupload")
	writer.WriteField("token", token)
	header := textproto.MIMEHeader{}
	header.Set("Content-Disposition", `form-data; name="file"; filename="fcm.json"`)
	header.Set("Content-Type", "application/json")
	part, _ := writer.CreatePart(header)
	content, err := os.ReadFile(os.Getenv("MATRIX_FILE"))
	if err != nil {
		panic(err)
	}
	part.Write(content)
	writer.Close()
	show("multipart")(http.Post(backend, writer.FormDataContentType(), &body))
}
