#!/usr/bin/env bash
# Trains the Rasa model when the training data, config, domain or NLU code
# changed; otherwise reuses models/rasa/<fingerprint>.tar.gz.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
CONFIG="${CONFIG:-config.yml}"
TRAIN_DATA="${TRAIN_DATA:-data/nlu.yml data/rules.yml data/stories.yml}"
out=models/rasa
mkdir -p "$out"
# shellcheck disable=SC2086
fingerprint="$(cat "$CONFIG" domain.yml $TRAIN_DATA bot/nlu/*.py 2>/dev/null | sha256sum | cut -c1-12)"
name="linli-$(basename "$CONFIG" .yml)-$fingerprint"
if [ -f "$out/$name.tar.gz" ]; then
  echo "==> Rasa model up to date: $out/$name.tar.gz"
else
  echo "==> Training the Rasa model ($CONFIG); this takes a few minutes on 2 cores"
  # shellcheck disable=SC2086
  "$PY" -m rasa train --config "$CONFIG" --domain domain.yml --data $TRAIN_DATA \
    --out "$out" --fixed-model-name "$name"
fi
ln -sfn "$name.tar.gz" "$out/current.tar.gz"
