# lvsadm build, test and VM targets. `make test` is what CI runs.
PREFIX   ?= /usr/local
DESTDIR  ?=
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/lvsadm/lvsadm/cmd/cli.version=$(VERSION)
BIN      := bin/lvsadm

.PHONY: all build test unit vmtest demo lint install clean bench bench-health man

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lvsadm

# Section 8 man pages for lvsadm and each subcommand, from the command tree
# (hidden `lvsadm __man DIR`), into bin/man.
man: build
	rm -rf bin/man
	$(BIN) __man bin/man

# What CI runs (.ci/run), in this order, stopping at the first failure:
#   lint    gofmt, go vet (with and without the integration tag), builds for
#           darwin and freebsd (the pure packages build anywhere), staticcheck
#   unit    go test -race ./... on the host: no root, no VM
#   vmtest  the //go:build integration tests as root in the VM (scripts/vmtest.sh);
#           a skipped test fails its package there
test:
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) vmtest

# The race detector needs cgo (gcc); only this step builds with it.
unit:
	@command -v $${CC:-gcc} >/dev/null || { echo "unit: go test -race needs cgo and a C compiler (apt-get install gcc)"; exit 1; }
	CGO_ENABLED=1 $(GO) test -race ./...

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

# Measures lvsadm run's checking on the host (no VM, no IPVS): 10,000 real
# servers with TCP checks every second against local listeners; fails when a
# target is missed (docs/health.md, Performance).
bench-health:
	LVSADM_PERF=1 $(GO) test -count=1 -run TestPerformance10kTCP -v ./cmd/health/

# staticcheck is pinned as a tool in go.mod (go get -tool ...@VERSION) and
# run with `go tool`; if it cannot be built or run, lint fails.
lint:
	@files=$$(git ls-files '*.go') && out=$$(gofmt -l $$files) || exit 1; \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	GOOS=darwin $(GO) build ./...
	GOOS=freebsd $(GO) build ./...
	$(GO) tool staticcheck ./...
	$(GO) tool staticcheck -tags integration ./...

install: build man
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/lvsadm
	for name in ipvsadm ipvsadm-save ipvsadm-restore; do \
		ln -sf lvsadm $(DESTDIR)$(PREFIX)/sbin/$$name; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 bin/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf bin
