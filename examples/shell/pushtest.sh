#!/usr/bin/env bash
# A shell integration test against a running mesibo-mock, with curl only.
#   MESIBO_URL=http://127.0.0.1:8000 MESIBO_APP_TOKEN=<token> bash examples/shell/pushtest.sh
set -euo pipefail
URL=${MESIBO_URL:-http://127.0.0.1:8000}
TOKEN=${MESIBO_APP_TOKEN:?set MESIBO_APP_TOKEN}
fail() { echo "FAIL: $*" >&2; exit 1; }

curl -fsS -X POST "$URL/_mock/reset" -H 'content-type: application/json' -d '{}' >/dev/null
curl -fsS -X POST "$URL/_mock/apps/$TOKEN/devices" -H 'content-type: application/json' \
  -d '{"address":"42","platform":"android","appid":"com.example.app","push_token":"fcm-42"}' >/dev/null

# The backend takes form fields too: this is how many PHP backends call Mesibo.
answer=$(curl -fsS "$URL/backend" -d op=pushtest -d "token=$TOKEN" -d push.address=42)
grep -q '"result":true' <<<"$answer" || fail "pushtest answered $answer"

pushes=$(curl -fsS "$URL/_mock/pushes?address=42&wait=5")
grep -q '"service":"fcm"' <<<"$pushes" || fail "no FCM push record: $pushes"
grep -q '"reason":"NO_FCM_CREDENTIALS"' <<<"$pushes" || fail "unexpected outcome: $pushes"
echo "ok: pushtest made an FCM push record"
