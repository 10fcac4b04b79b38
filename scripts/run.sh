#!/usr/bin/env bash
# Starts the action server and the Rasa server; Ctrl-C stops both.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
MODEL="${MODEL:-models/rasa/current.tar.gz}"
mkdir -p var/log

# The action server refuses calls without the shared secret: make one for this run
# when none is configured (both servers get it from the environment).
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
  export ACTION_SERVER_TOKEN
fi
# The REST channel (make shell, curl) needs a token; for a local run without one,
# keep a random token in var/rest_token (readable by this user only).
if [ -z "${LINLI_REST_TOKEN:-}" ]; then
  if [ ! -s var/rest_token ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' >var/rest_token)
  fi
  LINLI_REST_TOKEN="$(cat var/rest_token)"
  export LINLI_REST_TOKEN
fi

"$PY" -m bot.action_server --actions actions --interface "$LINLI_HOST" --port "$ACTION_PORT" \
  >var/log/actions.log 2>&1 &
actions_pid=$!
stop() {
  trap - INT TERM EXIT
  echo; echo "==> Stopping"
  kill "$actions_pid" "${rasa_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$PY" -m bot.server --model "$MODEL" \
  --interface "$LINLI_HOST" --port "$RASA_PORT" \
  --endpoints endpoints.yml --credentials credentials.yml &
rasa_pid=$!

# Print where to chat once the server answers.
for _ in $(seq 1 180); do
  # /health answers 200 once the model is loaded.
  if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
       "http://$LINLI_HOST:$RASA_PORT/health" >/dev/null 2>&1; then
    cat <<MSG

==> Linli is running
    Web chat:    http://$LINLI_HOST:$RASA_PORT/chat
    Staff desk:  http://$LINLI_HOST:$RASA_PORT/console   (first admin: .venv/bin/python -m bot.staff create-admin --username admin)
    REST:        POST http://$LINLI_HOST:$RASA_PORT/webhooks/rest/webhook  {"sender": "me", "message": "你好"}
                 with Authorization: Bearer \$(cat var/rest_token)   (or LINLI_REST_TOKEN)
    Terminal chat: make shell      Action server log: var/log/actions.log
    Ctrl-C stops both servers.
MSG
    break
  fi
  kill -0 "$rasa_pid" 2>/dev/null || break
  sleep 1
done
wait "$rasa_pid"
