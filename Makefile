# lvsadm build, test and VM targets. `make test` is what CI runs.
PREFIX   ?= /usr/local
DESTDIR  ?=
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/lvsadm/lvsadm/cmd/cli.version=$(VERSION)
BIN      := bin/lvsadm

.PHONY: all build test unit vmtest demo corpus lint install clean bench

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lvsadm

# Unit tests (no root, no VM) followed by the real-kernel suite in the VM.
test: unit vmtest

unit:
	$(GO) test ./...

# Go integration tests (//go:build integration) run as root inside the VM.
vmtest: build
	scripts/vmtest.sh

# Boots the VM and shows lvsadm configuring and listing services on a real kernel.
demo: build
	scripts/demo.sh

# Benchmarks lvsadm against the reference ipvsadm in one VM boot; the report
# is Markdown on stdout (see docs/benchmarks.md). BENCH_REPS=N repetitions
# (default 3); BENCH_QUICK=1 uses 1,000 x 10 for the 10,000 x 10 workloads.
bench: build
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/bench ./scripts/bench
	scripts/vm.sh run --timeout $(or $(BENCH_TIMEOUT),14400) --mem 2048 \
		--file $(BIN):/opt/lvsadm/lvsadm --file bin/bench:/opt/lvsadm/bench -- \
		'ln -s lvsadm /opt/lvsadm/ipvsadm && /opt/lvsadm/bench -lvsadm /opt/lvsadm/ipvsadm -reps "$(or $(BENCH_REPS),3)" -quick "$(or $(BENCH_QUICK),0)" -only "$(BENCH_ONLY)"'

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	@if $(GO) run honnef.co/go/tools/cmd/staticcheck@latest -version >/dev/null 2>&1; then \
		$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...; \
	else echo "staticcheck not installable from the module proxy; skipped"; fi

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/lvsadm
	for name in ipvsadm ipvsadm-save ipvsadm-restore; do \
		ln -sf lvsadm $(DESTDIR)$(PREFIX)/sbin/$$name; \
	done

clean:
	rm -rf bin
