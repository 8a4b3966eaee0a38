# The two set-up commands are `make demo` and `make test`; see README.md.
GO      ?= go
BIN     := bin/etl
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/etlhq/etl/cmd/etl/cli.version=$(VERSION) -X github.com/etlhq/etl/cmd/etl/cli.commit=$(COMMIT)
# make dist: static binaries (no cgo: they run on any Linux, glibc or musl,
# and in a scratch or distroless image) named etl_VERSION_OS_ARCH, with
# SHA256SUMS, in $(DIST).
DIST      ?= dist
PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64

.PHONY: build test browser-test demo bench lint install fuzz clean dist release-check

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/etl

test: build
	$(GO) vet $(PKGS)
	$(GO) test -race $(PKGS)
	./$(BIN) test pipelines/

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

# Each fuzz target for FUZZTIME (go test runs one -fuzz target at a time);
# the seeds and any failing input found are in each package's testdata/fuzz.
FUZZTIME ?= 30s
FUZZ    := ./etl/fileformat:FuzzReadCSV ./etl/fileformat:FuzzReadJSONL ./etl/fileformat:FuzzReadJSON \
           ./etl:FuzzRecordCodec ./etl:FuzzValueFromJSON ./etl/phone:FuzzNormalize \
           ./sources/bland:FuzzDecodeCalls ./filters/convoso:FuzzDecodeLeads

fuzz:
	@set -e; for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "$$pkg $$fn ($(FUZZTIME))"; $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; done

install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/etl

dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/etl_$(VERSION)_$${os}_$${arch}; \
		echo "$$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $$out ./cmd/etl; \
	done
	cd $(DIST) && if command -v sha256sum >/dev/null; then sha256sum etl_*; else shasum -a 256 etl_*; fi > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

# The release's own tests (deploy/): the binaries in $(DIST) are static,
# named and checksummed, report their version; `go install …@VERSION`
# works from a module proxy. CI runs it after make dist.
release-check:
	ETL_DIST=$(abspath $(DIST)) ETL_DIST_VERSION=$(VERSION) ETL_RELEASE_TEST=1 $(GO) test -count=1 ./deploy/

clean:
	rm -rf bin demo-data $(DIST)
