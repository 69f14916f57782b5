# vecshard build. `make` builds the plugin, its C host and the two commands;
# `make test` is what CI runs; `make demo` shows the whole path end to end.

GO      ?= go
CC      ?= gcc
BUILD   := build
FUZZTIME ?= 3s

# Packages without cgo of their own; tested with the race detector.
PUREGO_PKGS := ./vecdecode/... ./idkey/... ./centroids/... ./router/... ./kmeans/... ./cmd/...

.PHONY: all build test vet unit e2e fuzz-smoke fuzz bench demo clean

all: build

build: $(BUILD)/libvecshard.so $(BUILD)/vecshard-host $(BUILD)/train-centroids $(BUILD)/vecshard

# The Go sources are many; let go's own cache decide what is stale.
$(BUILD)/libvecshard.so: FORCE
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared -o $@ ./plugin

$(BUILD)/vecshard-host: plugin/hosttest/host.c $(wildcard plugin/include/*.h)
	@mkdir -p $(BUILD)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -Iplugin/include -o $@ plugin/hosttest/host.c -ldl

$(BUILD)/train-centroids: FORCE
	@mkdir -p $(BUILD)
	$(GO) build -o $@ ./cmd/train-centroids

$(BUILD)/vecshard: FORCE
	@mkdir -p $(BUILD)
	$(GO) build -o $@ ./cmd/vecshard

FORCE:

test: vet unit e2e fuzz-smoke

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 $(PUREGO_PKGS)
	$(GO) test -count=1 -tags purego ./centroids/...
	$(GO) test -count=1 ./plugin
	$(GO) test -count=1 -bench . -benchtime 1x ./bench

# The end-to-end tests load build/libvecshard.so into build/vecshard-host;
# the valgrind test builds its own copy with -tags valgrind.
e2e: build
	VECSHARD_E2E_BUILD=$(CURDIR)/$(BUILD) $(GO) test -count=1 -timeout 30m ./e2e

fuzz-smoke:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz:
	FUZZTIME=60s scripts/fuzz.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 -timeout 90m ./bench | tee $(BUILD)/bench.txt

demo: build
	scripts/demo.sh

clean:
	rm -rf $(BUILD)
