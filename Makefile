# Linli — the two commands a property company needs:
#   make run    set up if needed, then start the assistant
#   make test   set up if needed, then run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
ENV := source scripts/env.sh &&
SHARED ?= ../shared/datasets
# Real regulations are ingested by path when the shared data sets are present.
KNOWLEDGE_EXTRA_SOURCES ?= $(wildcard $(SHARED)/property_regulations_zh)
BENCH_ARGS ?=
PYTEST_ARGS ?=

.PHONY: help setup venv migrate provision index train browser run shell test bench-nlu bench-rag bench-dialogue bench-load clean wheelhouse

help:
	@echo "make run        set up if needed, then start Rasa (:5005) and the action server (:5055)"
	@echo "make test       set up if needed, then run all tests"
	@echo "make migrate    upgrade the database (DATABASE_URL) to the schema the code needs"
	@echo "make shell      chat in the terminal with the running service"
	@echo "make wheelhouse every wheel in wheelhouse/ for an air-gapped install (docs/deploy.md)"
	@echo "make bench-nlu  NLU benchmark (BENCH_ARGS='--dataset own|banking77|clinc150')"
	@echo "make bench-rag  knowledge-base benchmark: retrieval, latency, answer quality (BENCH_ARGS='--parts quality --force')"
	@echo "make bench-dialogue  conversation suite pass rates + follow-up accuracy (BENCH_ARGS='--category emergency')"
	@echo "make bench-load simulated residents through nginx, 1 then 2 replicas (BENCH_ARGS='--residents 50 --minutes 5 --mode paced|saturation')"

venv:
	@scripts/setup_venv.sh

# Linli's tables on DATABASE_URL (bot/schema.py, bot/migrations/); servers refuse an out-of-date schema.
migrate: venv
	@$(ENV) $(PY) -m bot.schema upgrade

provision: venv
	@if [ -d bot/provision ]; then $(ENV) $(PY) -m bot.provision; fi
	@# llama-cpp-python's own OpenAI-compatible server (tests and bench-rag of the `openai` backend):
	@# its extras need pydantic 2, so they live in var/llm-server/site, not in the venv (knowledge/llm_server.py).
	@$(ENV) $(PY) -c "from knowledge.llm_server import ensure_server_packages as e; print('[llm-server] extras in', e())"

index: provision
	@if [ -f knowledge/__main__.py ]; then $(ENV) $(PY) -m knowledge ingest knowledge/sources $(KNOWLEDGE_EXTRA_SOURCES) --index "$$KNOWLEDGE_INDEX"; fi

train: provision
	@$(ENV) PY=$(PY) scripts/train.sh

setup: venv migrate provision index train

run: setup
	@$(ENV) PY=$(PY) scripts/run.sh

shell: venv
	@$(ENV) $(PY) scripts/shell.py

# Wheels of requirements.lock, pip and the compiled llama-cpp-python (scripts/wheelhouse.sh).
wheelhouse: venv
	@scripts/wheelhouse.sh

# Browser tests drive Debian's headless Chromium; the proxy test runs a real nginx.
browser:
	@scripts/install_browser.sh
	@scripts/install_nginx.sh

test: setup browser
	@$(ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench-nlu: provision
	@$(ENV) nice -n 10 $(PY) benchmarks/bench_nlu.py --data-root $(SHARED) $(BENCH_ARGS)

bench-rag: index
	@$(ENV) nice -n 10 $(PY) benchmarks/bench_rag.py --data-root $(SHARED) $(BENCH_ARGS)

bench-dialogue: setup
	@$(ENV) nice -n 10 $(PY) benchmarks/bench_dialogue.py $(BENCH_ARGS)

# Needs PostgreSQL, Redis and RabbitMQ for the cluster (BENCH_ARGS='--backend sqlite --replicas 1' without them).
bench-load: setup
	@scripts/install_nginx.sh
	@$(ENV) $(PY) benchmarks/bench_load.py $(BENCH_ARGS)

clean:
	rm -rf var models/rasa .pytest_cache
