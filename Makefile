# The two set-up commands are `make demo` and `make test`; see README.md.
GO      ?= go
BIN     := bin/etl
PKGS    := ./...
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/etlhq/etl/cmd/etl/cli.version=$(VERSION)

.PHONY: build test browser-test demo bench lint install fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/etl

test:
	$(GO) vet $(PKGS)
	$(GO) test -race $(PKGS)

# The run report in headless Chromium (Debian's chromium package): renders
# the demo's report, fails on a script error, a chart without marks or a
# network request, and leaves a screenshot in bin/report.png.
browser-test:
	@mkdir -p bin
	ETL_SCREENSHOT=$(CURDIR)/bin/report.png $(GO) test -tags browser -count=1 -run 'Browser' ./cmd/etl/cli

demo: build
	./$(BIN) demo

bench: build
	./scripts/bench.sh

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/etl

clean:
	rm -rf bin demo-data
