# The two set-up commands are `make demo` and `make test`; see README.md.
GO      ?= go
BIN     := bin/etl
PKGS    := ./...

.PHONY: build test demo bench lint install fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/etl

test:
	$(GO) vet $(PKGS)
	$(GO) test -race $(PKGS)

demo: build
	./$(BIN) demo

bench: build
	./scripts/bench.sh

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

install:
	$(GO) install ./cmd/etl

clean:
	rm -rf bin demo-data
