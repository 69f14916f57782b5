# vecshard build. `make` builds both plugin libraries, the PgDog-like test
# hosts and the two commands; `make test` is what CI runs; `make demo` shows
# the whole path end to end.
#
#   build/libvecshard.so        today's PgDog (>= v0.1.54): the pgdog-plugin 0.4 vtable ABI
#   build/libvecshard_c2025.so  PgDog commit cd054b36 (January 2025): the C ABI
#   build/pgdog-host            a std-only Rust host that loads a plugin as today's PgDog does
#   build/vecshard-host         the C host of the January 2025 C ABI

GO      ?= go
CC      ?= gcc
BUILD   := build
FUZZTIME ?= 3s

# PostgreSQL 18's headers and libpg_query's static raw parser (Debian
# unstable's libpg-query-dev and postgresql-server-dev-18, pinned by version
# and SHA256 in scripts/pg18-deps.pins), fetched into the build directory
# without touching the system: the layout check and the test hosts' parser
# need them; building the plugin does not. The same directory is
# scripts/pg18-deps.sh's default, which the other scripts ask for theirs.
PG18_DEPS ?= $(BUILD)/deps/pg18
PG18_ROOT := $(PG18_DEPS)/root
# Where Debian puts libpg_query.a for this machine (x86_64-linux-gnu on amd64).
MULTIARCH := $(shell $(CC) -print-multiarch)

# Packages without cgo of their own, every one with tests (docs holds the
# tests that keep the pages true); tested with the race detector.
PUREGO_PKGS := ./vecdecode/... ./idkey/... ./centroids/... ./config/... ./router/... ./kmeans/... ./partition/... \
	./cmd/... ./sqlir/... ./sqltext/... ./pgtree/... ./internal/... ./plugin/internal/... ./docs

# Packages with an amd64 assembly or SIMD path and a pure-Go fallback
# (//go:build !amd64 || purego): tested again with -tags purego so that the
# fallback other architectures run is compiled and checked on amd64 CI too.
FALLBACK_PKGS := ./centroids/... ./kmeans/... ./pgtree/... ./bench

.PHONY: all build test vet unit alloc e2e shards fuzz-smoke fuzz bench bench-shards bench-pgdog demo clean deps layout-check layout-gen \
	corpus-json vtablehost-selftest hosts

all: build

build: $(BUILD)/libvecshard.so $(BUILD)/libvecshard_c2025.so $(BUILD)/vecshard-host $(BUILD)/train-centroids $(BUILD)/vecshard

# The Go sources are many; let go's own cache decide what is stale.
$(BUILD)/libvecshard.so: FORCE
	@mkdir -p $(BUILD)
	@echo "== building $@ (vtable ABI, no pg_query)"
	$(GO) build -buildmode=c-shared -o $@ ./plugin/vtable

$(BUILD)/libvecshard_c2025.so: FORCE
	@mkdir -p $(BUILD)
	@echo "== building $@ (C ABI of January 2025, with pg_query: the first build compiles its C parser, ~2 minutes)"
	$(GO) build -buildmode=c-shared -o $@ ./plugin/c2025

$(BUILD)/vecshard-host: plugin/hosttest/host.c $(wildcard plugin/include/*.h)
	@mkdir -p $(BUILD)
	@echo "== building $@ (C host of the January 2025 ABI)"
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -Iplugin/include -o $@ plugin/hosttest/host.c -ldl

$(BUILD)/train-centroids: FORCE
	@mkdir -p $(BUILD)
	@echo "== building $@"
	$(GO) build -o $@ ./cmd/train-centroids

$(BUILD)/vecshard: FORCE
	@mkdir -p $(BUILD)
	@echo "== building $@"
	$(GO) build -o $@ ./cmd/vecshard

FORCE:

deps: $(PG18_DEPS)/pins.unpacked

# The script does nothing when the pinned packages are already unpacked.
$(PG18_DEPS)/pins.unpacked: scripts/pg18-deps.pins scripts/pg18-deps.sh
	@echo "== fetching PostgreSQL 18 headers and libpg_query (scripts/pg18-deps.pins) into $(PG18_DEPS)"
	scripts/pg18-deps.sh $(PG18_DEPS) >/dev/null

# The PgDog-like host (Rust, std only) links libpg_query's raw parser.
hosts: $(BUILD)/pgdog-host

VTABLEHOST_SRC := $(wildcard plugin/vtablehost/*.rs plugin/vtablehost/*.c plugin/vtablehost/*.sh)
$(BUILD)/pgdog-host: $(VTABLEHOST_SRC) | deps
	@echo "== building the PgDog-like host $@ (Rust)"
	plugin/vtablehost/build.sh $(BUILD) $(PG18_ROOT)

$(BUILD)/pg18json: internal/pg18json/pg18json.c plugin/vtablehost/pgparse.c | deps
	$(CC) -O2 -Wall -Werror -I$(PG18_ROOT)/usr/include -I$(PG18_ROOT)/usr/include/pg_query \
		-I$(PG18_ROOT)/usr/include/pg_query/postgres -o $@ $^ $(PG18_ROOT)/usr/lib/$(MULTIARCH)/libpg_query.a -lpthread

test: vet layout-check unit alloc e2e fuzz-smoke

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

# The committed PG18 layout table against the headers, by compiling it.
layout-check: deps
	scripts/pg18-layout-check.sh $(PG18_DEPS)

layout-gen: deps
	$(GO) run ./internal/cmd/pg18layout -headers $(PG18_ROOT)/usr/include/pg_query/postgres -out pgtree/layout_pg18.go \
		-check pgtree/testdata/pg18layout_check.c -check-server pgtree/testdata/pg18layout_check_server.c

# The corpus's PostgreSQL 18 parse trees (JSON), committed for plain-Go tests.
corpus-json: $(BUILD)/pg18json
	PG18JSON=$(CURDIR)/$(BUILD)/pg18json $(GO) test -count=1 -run TestFrontEndsAgree ./pgtree -update

# What BenchmarkShards needs: the vtable library, its PgDog-like host, the
# two commands.
SHARDS_BUILD := $(BUILD)/libvecshard.so $(BUILD)/train-centroids $(BUILD)/vecshard hosts

# The bench smoke includes BenchmarkShards on real servers (4 shards, 10,000
# rows, 100 queries; it skips without root, Fashion-MNIST or the hosts).
unit: $(BUILD)/pg18json $(SHARDS_BUILD)
	$(GO) test -race -count=1 $(PUREGO_PKGS)
	$(GO) test -count=1 -tags purego $(FALLBACK_PKGS)
	PG18JSON=$(CURDIR)/$(BUILD)/pg18json $(GO) test -count=1 -run TestFrontEndsAgree ./pgtree
	$(GO) test -count=1 ./plugin/c2025 ./plugin/vtable
	$(GO) test -race -count=1 -run 'Kernel' ./plugin/vtable
	VECSHARD_BENCH_BUILD=$(CURDIR)/$(BUILD) VECSHARD_BENCH_ROWS=10000 VECSHARD_BENCH_QUERIES=100 \
		$(GO) test -count=1 -bench . -benchtime 1x ./bench

# Zero-allocation assertions skip under -race (it allocates); run them here.
alloc:
	$(GO) test -count=1 -run 'Alloc' ./router/... ./centroids/... ./vecdecode/... ./idkey/... ./pgtree/... ./plugin/vtable

# The end-to-end tests load the real libraries into hosts that behave like
# PgDog; the valgrind test builds its own copy with -tags valgrind.
e2e: build hosts
	plugin/vtablehost/selftest.sh $(BUILD)/vtablehost-selftest $(PG18_ROOT)
	VECSHARD_E2E_BUILD=$(CURDIR)/$(BUILD) $(GO) test -count=1 -timeout 30m ./e2e/...

# The operator's workflow on real PostgreSQL 17 + pgvector servers (scripts/
# pg-shards.sh: a Debian trixie root under build/_pgroot, needs root), every
# statement through the real library and PgDog's merge rules, on all 60,000
# Fashion-MNIST training images. make e2e runs the same suite on 20,000.
shards: build hosts
	VECSHARD_E2E_BUILD=$(CURDIR)/$(BUILD) VECSHARD_SHARDS_ROWS=$(or $(ROWS),60000) \
		$(GO) test -count=1 -timeout 60m -v ./e2e/shards

vtablehost-selftest: deps
	plugin/vtablehost/selftest.sh $(BUILD)/vtablehost-selftest $(PG18_ROOT)

fuzz-smoke:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz:
	FUZZTIME=60s scripts/fuzz.sh

bench: build hosts
	$(GO) test -run '^$$' -bench . -benchmem -count 6 -timeout 90m ./bench ./plugin/vtable | tee $(BUILD)/bench.txt

# Routed against fan-out against one server on real PostgreSQL + pgvector
# servers (BENCH_SHARDS shards and a reference, Fashion-MNIST's 60,000
# training images, the first 1,000 test images as queries), then the
# recall/throughput plot at 8 connections and the table of every result.
BENCH_SHARDS ?= 16
bench-shards: $(SHARDS_BUILD)
	VECSHARD_BENCH_BUILD=$(CURDIR)/$(BUILD) VECSHARD_BENCH_SHARDS=$(BENCH_SHARDS) VECSHARD_BENCH_ROWS=60000 \
		VECSHARD_BENCH_QUERIES=1000 $(GO) test -run '^$$' -bench '^BenchmarkShards$$' -count 3 -timeout 120m ./bench 2>&1 \
		| tee $(BUILD)/bench-shards.txt
	@grep -q '^ok' $(BUILD)/bench-shards.txt || { echo "bench-shards: go test failed (see $(BUILD)/bench-shards.txt)"; exit 1; }
	$(GO) run ./internal/cmd/shardsplot -in $(BUILD)/bench-shards.txt -out docs/img/shards-recall-throughput.png -conns 8 -table

# BenchmarkShards' cluster and queries through a real PgDog binary (PGDOG=/path/to/pgdog,
# required): vecshard as plugin, PgDog's fan-out, PgDog's built-in vector sharding, the reference
# server behind PgDog, and the plugin's cost per id lookup (BenchmarkPgDog in bench/pgdog_test.go).
BENCH_PGDOG_SHARDS ?= 4
BENCH_PGDOG_TIME ?= 2s
bench-pgdog: $(SHARDS_BUILD)
	@test -n "$(PGDOG)" || { echo "bench-pgdog: set PGDOG=/path/to/pgdog (a PgDog v0.1.54 binary)"; exit 2; }
	PGDOG=$(PGDOG) VECSHARD_BENCH_BUILD=$(CURDIR)/$(BUILD) VECSHARD_BENCH_SHARDS=$(BENCH_PGDOG_SHARDS) \
		VECSHARD_BENCH_ROWS=$(or $(ROWS),60000) VECSHARD_BENCH_QUERIES=1000 \
		$(GO) test -run '^$$' -bench '^BenchmarkPgDog$$' -benchtime $(BENCH_PGDOG_TIME) -count 1 -timeout 60m ./bench 2>&1 \
		| tee $(BUILD)/bench-pgdog.txt
	@grep -q '^ok' $(BUILD)/bench-pgdog.txt || { echo "bench-pgdog: go test failed (see $(BUILD)/bench-pgdog.txt)"; exit 1; }

# The demo's own build steps say what they build: the first build compiles
# pg_query's C parser for the January 2025 library (about 2 minutes).
demo: build hosts
	@echo "== build done; running the demo"
	scripts/demo.sh

clean:
	-scripts/pg-shards.sh stop
	rm -rf $(BUILD)
