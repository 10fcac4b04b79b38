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

.PHONY: help setup venv provision index train browser run shell test bench-nlu bench-rag bench-dialogue clean

help:
	@echo "make run        set up if needed, then start Rasa (:5005) and the action server (:5055)"
	@echo "make test       set up if needed, then run all tests"
	@echo "make shell      chat in the terminal with the running service"
	@echo "make bench-nlu  NLU benchmark (BENCH_ARGS='--dataset own|banking77|clinc150')"
	@echo "make bench-rag  knowledge-base benchmark"
	@echo "make bench-dialogue  conversation suite pass rates + follow-up accuracy (BENCH_ARGS='--category emergency')"

venv:
	@scripts/setup_venv.sh

provision: venv
	@if [ -d bot/provision ]; then $(ENV) $(PY) -m bot.provision; fi

index: provision
	@if [ -f knowledge/__main__.py ]; then $(ENV) $(PY) -m knowledge ingest knowledge/sources $(KNOWLEDGE_EXTRA_SOURCES) --index "$$KNOWLEDGE_INDEX"; fi

train: provision
	@$(ENV) PY=$(PY) scripts/train.sh

setup: venv provision index train

run: setup
	@$(ENV) PY=$(PY) scripts/run.sh

shell: venv
	@$(ENV) $(PY) scripts/shell.py

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

clean:
	rm -rf var models/rasa .pytest_cache
