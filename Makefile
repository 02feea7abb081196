# kaipm: the kAI Plugin Manager. `make demo` and `make test` work on a fresh Debian machine as root:
# they install the system packages they need first.

SWIFT       ?= swift
ROOT        ?= $(CURDIR)/.kaipm/root
HOST        ?= demo
KAIPM_DEBUG := .build/debug/kaipm
# Release builds link the Swift runtime and Foundation statically: a reconcile is a short-lived
# process, and loading and relocating a dozen shared libraries cost a no-op run ~15 ms.
RELEASE     := -c release --static-swift-stdlib
APT_PACKAGES := libgit2-dev libsqlite3-dev bubblewrap libseccomp-dev pkg-config git python3 coreutils

.PHONY: deps build release demo demo-stop test bench clean

## deps: install the Debian packages kaipm builds and runs with (only those missing).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build --product kaipm

release: deps
	$(SWIFT) build $(RELEASE) --product kaipm

## demo: reconcile the shipped desired-state/ into ./.kaipm/root twice (the second run is a no-op).
# The desired state is read from git at HEAD; outside a git checkout (a tarball) a scratch
# repository is made so that the demo still reads committed objects, never a work tree.
demo: build
	@set -e; repo=$(CURDIR); \
	if ! git -C $(CURDIR) rev-parse --verify -q HEAD >/dev/null 2>&1; then \
	  repo=$(CURDIR)/.kaipm/demo-repo; rm -rf $$repo; mkdir -p $$repo; \
	  cp -r desired-state examples $$repo/; \
	  git -C $$repo init -q && git -C $$repo add -A && \
	  git -C $$repo -c user.name=kaipm -c user.email=kaipm@localhost commit -qm "demo desired state"; \
	fi; \
	echo "== kaipm plan (host $(HOST), root $(ROOT))"; \
	$(KAIPM_DEBUG) plan --repo $$repo --root $(ROOT) --host $(HOST) --no-color; \
	echo; echo "== kaipm apply"; \
	$(KAIPM_DEBUG) apply --repo $$repo --root $(ROOT) --host $(HOST) --no-color; \
	echo; echo "== kaipm apply (again: nothing to do)"; \
	$(KAIPM_DEBUG) apply --repo $$repo --root $(ROOT) --host $(HOST) --no-color; \
	echo; echo "== kaipm status"; \
	$(KAIPM_DEBUG) status --root $(ROOT); \
	echo; echo "The active plugins keep running in their sandboxes; 'make demo-stop' stops them."

## demo-stop: stop the demo's sandboxes: SIGTERM to their supervisors, each unloads its plugin first.
demo-stop:
	@pkill -TERM -f -- "^kaipm-supervisor --spec $(ROOT)/kos/run/" && echo "stopped the sandboxes under $(ROOT)" || echo "no sandboxes running under $(ROOT)"

## test: every test, on real git repositories, SQLite files and (later) sandboxes.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: the benchmark of Benchmarks/README, on the release build.
bench: deps
	@dpkg-query -W -f='$${Status}' python3-jsonschema 2>/dev/null | grep -q "ok installed" || \
	  { [ "$$(id -u)" -eq 0 ] && SUDO= || SUDO=sudo; $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends python3-jsonschema; }
	$(SWIFT) build $(RELEASE) --product kaipm
	$(SWIFT) build $(RELEASE) --product kaipm-supervisor
	$(SWIFT) build $(RELEASE) --product kaipm-bench
	.build/release/kaipm-bench --sandboxes $(BENCH_ARGS)
	@echo; echo "== JSON Schema validation: kaipm's validator and Python's jsonschema on the same 1,000 configs"
	bench/jsonschema/run.sh

clean:
	rm -rf .build .kaipm
