# Sourced by the Makefile's recipes: loads .env (if any), then sets what the shell and
# Rasa need. Linli's own settings and their defaults live in bot/settings.py (listed in
# .env.example); only variables a shell script or Rasa's ${VAR} substitution reads are here.
if [ -f .env ]; then set -a; . ./.env; set +a; fi

# scripts/run.sh and scripts/shell.py: where the servers listen.
export LINLI_HOST="${LINLI_HOST:-127.0.0.1}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
# endpoints.yml (Rasa substitutes ${VAR} and refuses an unset one).
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-}"   # scripts/run.sh makes one when empty
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-}"
export TRACKER_STORE_DB="${TRACKER_STORE_DB:-var/tracker.db}"
# The Makefile: `make migrate` works on DATABASE_URL, `make index` builds into KNOWLEDGE_INDEX.
export DATABASE_URL="${DATABASE_URL:-sqlite:///var/linli.db}"
export KNOWLEDGE_INDEX="${KNOWLEDGE_INDEX:-var/knowledge_index}"
# Rasa, TensorFlow and Hugging Face (not Linli settings): quiet logs, no telemetry, offline.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
export SQLALCHEMY_SILENCE_UBER_WARNING="${SQLALCHEMY_SILENCE_UBER_WARNING:-1}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
