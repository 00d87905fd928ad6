# Ruby's Net::HTTP at its defaults: a JSON body, set_form_data, a query string, set_form as multipart.
require "json"
require "net/http"
require "uri"

url = URI(ENV.fetch("MATRIX_BACKEND"))
token = ENV.fetch("MATRIX_TOKEN")
address = ENV.fetch("MATRIX_ADDRESS")

def show(name, response)
  puts "#{name} #{response.code} #{response.body}"
end

Net::HTTP.start(url.host, url.port) do |http|
  json = Net::HTTP::Post.new(url, "Content-Type" => "application/json")
  json.body = JSON.generate({ op: "useradd", token: token, user: { address: address, name: "json" } })
  show("json", http.request(json))
  form = Net::HTTP::Post.new(url)
  form.set_form_data("op" => "userset", "token" => token, "addr" => address, "name" => "form")
  show("form", http.request(form))
  query = url.dup
  query.query = URI.encode_www_form("op" => "usersget", "token" => token, "addr" => address)
  show("query", http.request(Net::HTTP::Get.new(query)))
  File.open(ENV.fetch("MATRIX_FILE")) do |file|
    upload = Net::HTTP::Post.new(url)
    upload.set_form([["op", "pushupload"], ["token", token],
                     ["file", file, { filename: "fcm.json", content_type: "application/json" }]], "multipart/form-data")
    show("multipart", http.request(upload))
  end
end
