#!/usr/bin/env bash
# curl at its defaults (HTTP/1.1 on http://), or with the flags given: --http2 offers an h2c upgrade.
set -euo pipefail
call() {
    local name=$1; shift
    local out
    out=$(curl -sS -w '\n%{http_code}' "$@")
    echo "$name ${out##*$'\n'} ${out%$'\n'*}"
}
B=$MATRIX_BACKEND T=$MATRIX_TOKEN A=$MATRIX_ADDRESS
call json "$@" -H 'Content-Type: application/json' -d "{\"op\":\"useradd\",\"token\":\"$T\",\"user\":{\"address\":\"$A\",\"name\":\"json\"}}" "$B"
call form "$@" --data-urlencode op=userset --data-urlencode "token=$T" --data-urlencode "addr=$A" --data-urlencode name=form "$B"
call query "$@" -G --data-urlencode op=usersget --data-urlencode "token=$T" --data-urlencode "addr=$A" "$B"
call multipart "$@" -F op=pushupload -F "token=$T" -F "file=@$MATRIX_FILE;filename=fcm.json;type=application/json" "$B"
