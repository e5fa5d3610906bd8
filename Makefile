# Shadowless — the two commands a newcomer needs are `make demo` and `make test`.
# Every target that needs system packages installs them first (scripts/install-deps.sh).

GO        ?= go
BIN       := bin/shadowless
PKGS      := ./...
FUZZTIME  ?= 30s
# gousb: real USB devices through libusb (cgo); libusb-1.0-0-dev comes with install-deps.
TAGS      ?= gousb
BENCHOUT  ?= bench-results
# Packages whose property tests must also pass under the race detector.
RACE_PKGS := ./scheduler/... ./policy/... ./storage/...

.PHONY: all deps build demo test vet fmt-check bench fuzz generate clean

all: build

deps:
	@scripts/install-deps.sh

build:
	$(GO) build -tags "$(TAGS)" -o $(BIN) ./reference/cmd/shadowless

## demo: stream a fresh Xvfb desktop to http://127.0.0.1:8080
demo: deps build
	./$(BIN) demo

## test: formatting, vet, every test (fuzz seed corpora included), race tests.
test: deps fmt-check vet
	$(GO) test -tags "$(TAGS)" -count=1 -timeout 30m $(PKGS)
	$(GO) test -tags "$(TAGS)" -count=1 -race -timeout 20m $(RACE_PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet -tags "$(TAGS)" $(PKGS)

## bench: Go benchmarks plus the QA scenarios; results land in $(BENCHOUT)/.
bench: deps build
	scripts/bench.sh $(BENCHOUT)

## fuzz: every Fuzz target for $(FUZZTIME) each.
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

generate:
	$(GO) generate ./...

clean:
	rm -rf bin $(BENCHOUT)
