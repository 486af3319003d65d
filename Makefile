# netfence: every entry point a user or CI needs. `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
INVENTORY ?= inventories/lab
# where make plan records the run folder it then prints last
LAST_PLAN ?= $(CURDIR)/.cache/last-plan
PLAYBOOKS := $(sort $(wildcard playbooks/*.yml))

.PHONY: help setup lab plan teardown test unit lint syntax molecule kind local cluster-up cluster-down workflows bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create .venv with the pinned toolchain (fast no-op when up to date)
	@bash scripts/setup.sh

lab: setup ## the main job: kind + Calico lab, policies, before/after evidence, report
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/site.yml $(ARGS)

plan: setup ## offline: validate, render, predict; prints the run folder last
	@mkdir -p $(dir $(LAST_PLAN)) && rm -f $(LAST_PLAN)
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/plan.yml -e netfence_last_run_file=$(LAST_PLAN) $(ARGS)
	@if [ -s $(LAST_PLAN) ]; then cat $(LAST_PLAN); else echo "make plan: no run folder written (check mode or --tags validate)"; fi

teardown: setup ## delete what netfence created, and only that
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/teardown.yml $(ARGS)

test: setup unit lint syntax workflows molecule ## everything CI runs
	@echo "make test: all checks passed"

unit: setup ## pytest: the package, plugins, roles against test doubles, upstream truth tables
	$(BIN)/python -m pytest -n auto tests

lint: setup ## ansible-lint (production profile) and yamllint
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --profile production -q

syntax: setup ## ansible-playbook --syntax-check of every playbook
	@for p in $(PLAYBOOKS); do \
	  $(BIN)/ansible-playbook -i $(INVENTORY) --syntax-check $$p >/dev/null || { echo "syntax-check failed: $$p"; exit 1; }; \
	  echo "syntax ok: $$p"; done

workflows: setup ## GitHub workflows: JSON schema and zizmor (offline)
	@if compgen -G ".github/workflows/*.yml" >/dev/null; then \
	  $(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml && \
	  $(BIN)/zizmor --offline --min-severity high .github/workflows; \
	else echo "workflows: none yet"; fi

molecule: setup ## Molecule default scenario (offline, localhost)
	$(BIN)/molecule test -s default

kind: setup ## Molecule 'kind' scenario: a real kind + Calico lab, end to end (needs Docker)
	$(BIN)/molecule test -s kind

cluster-up: ## the netfence local cluster: Kubernetes from upstream sources, no Docker, no registry (root, Go)
	bash localcluster/cluster.sh up

cluster-down: ## stop the local cluster; nothing stays running, mounted or in iptables
	bash localcluster/cluster.sh down

local: setup ## Molecule 'local' scenario: the whole lab on the local cluster, end to end, then cluster down
	@# build first, outside Molecule, so the long cold build shows its progress as it goes
	bash localcluster/cluster.sh images
	$(BIN)/molecule test -s local

bench: setup ## engine, plan and probe-runner benchmarks (prints figures)
	$(BIN)/python bench/engine_bench.py
	$(BIN)/python bench/plan_bench.py
	@if [ -f bench/probe_bench.py ]; then $(BIN)/python bench/probe_bench.py; fi

clean: ## remove the venv and caches (evidence is kept)
	rm -rf $(VENV) .pytest_cache .cache
