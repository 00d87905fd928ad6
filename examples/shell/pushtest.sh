#!/usr/bin/env bash
# A shell integration test against a running mesibo-mock, with curl only. It makes an app of its own
# and deletes it at the end: the server's other apps, users and credentials are left as they were.
#   PORT=8000 bash examples/shell/pushtest.sh         (or MESIBO_URL=http://host:port)
set -euo pipefail
URL=${MESIBO_URL:-http://127.0.0.1:${PORT:-8000}}
TOKEN="shell-example-$RANDOM$RANDOM"
fail() { echo "FAIL: $*" >&2; exit 1; }

curl -fsS -X POST "$URL/_mock/apps" -H 'content-type: application/json' \
  -d "{\"name\":\"shell example\",\"token\":\"$TOKEN\"}" >/dev/null
trap 'curl -fsS -X DELETE "$URL/_mock/apps/$TOKEN" >/dev/null || true' EXIT
curl -fsS -X POST "$URL/_mock/apps/$TOKEN/devices" -H 'content-type: application/json' \
  -d '{"address":"42","platform":"android","appid":"com.example.app","push_token":"fcm-42"}' >/dev/null

# The backend takes form fields too: this is how many PHP backends call Mesibo.
answer=$(curl -fsS "$URL/backend" -d op=pushtest -d "token=$TOKEN" -d push.address=42)
grep -q '"result":true' <<<"$answer" || fail "pushtest answered $answer"

pushes=$(curl -fsS "$URL/_mock/pushes?token=$TOKEN&address=42&wait=5")
grep -q '"service":"fcm"' <<<"$pushes" || fail "no FCM push record: $pushes"
grep -q '"reason":"NO_FCM_CREDENTIALS"' <<<"$pushes" || fail "unexpected outcome: $pushes"
echo "ok: pushtest made an FCM push record"
