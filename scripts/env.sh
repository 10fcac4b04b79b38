# Sourced by the Makefile's recipes: loads .env (if any) and gives every
# setting a safe default for a single machine. Override in .env or the shell.
if [ -f .env ]; then set -a; . ./.env; set +a; fi

export LINLI_HOST="${LINLI_HOST:-127.0.0.1}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///var/linli.db}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-}"
export TRACKER_STORE_DB="${TRACKER_STORE_DB:-var/tracker.db}"
export LINLI_TIMEZONE="${LINLI_TIMEZONE:-Asia/Shanghai}"
export LINLI_MODELS_DIR="${LINLI_MODELS_DIR:-models/pretrained}"
export KNOWLEDGE_INDEX="${KNOWLEDGE_INDEX:-var/knowledge_index}"
# Rasa and TensorFlow are chatty; keep logs readable.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
