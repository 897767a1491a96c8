# make test: everything CI runs. It installs what the tests need first.
GO ?= go
# staticcheck is pinned by its module version in tools/go.mod (a `tool`
# directive), so lint needs nothing installed beforehand: `go tool` builds it.
STATICCHECK = $(GO) tool -modfile=$(CURDIR)/tools/go.mod staticcheck

.PHONY: test deps lint unit props tools bench demo

# Most of a first make test is compiling: the race build of every package,
# staticcheck itself, and the build vet and staticcheck load packages from.
# So the unit tests (-race) run first, beside staticcheck's build and the
# analysis's property tests (two at a time: the tests spend much of their
# time waiting on sockets and child processes, time the other job's CPU
# fills); each module's lint (ci-lint-main, ci-lint-bench) runs with
# GOFLAGS=-race as soon as that module's tests are done, on the build they
# just made, instead of compiling everything a second time. Each job's output is
# printed whole when it ends (--output-sync), so they never interleave; a
# make without output-sync (3.81, as on macOS) runs them one after the
# other. Any of them failing fails make test.
test: deps
ifneq ($(filter output-sync,$(.FEATURES)),)
	@echo "make test: unit tests (-race), the analysis's property tests, staticcheck's build, then lint on the tests' build, two jobs at a time; each job's output is shown when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target ci-lint-main ci-lint-bench props
else
	@$(MAKE) --no-print-directory ci-lint-main ci-lint-bench props
endif

# make test's order: each module's lint runs once its race build exists.
.PHONY: ci-lint-main ci-lint-bench unit-main unit-bench
ci-lint-main: unit-main tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	GOFLAGS=-race $(GO) vet ./...
	GOFLAGS=-race $(STATICCHECK) ./...
ci-lint-bench: unit-bench tools
	cd bench && GOFLAGS=-race $(GO) vet ./... && GOFLAGS=-race $(STATICCHECK) ./...

# Services and tools the tests need. Installed only when missing, so the
# command works on a fresh Debian machine (as root) and is quick afterwards.
deps:
	@./scripts/test-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd bench && $(GO) vet ./... && $(STATICCHECK) ./...

# Builds staticcheck (pinned in tools/go.mod) without running it.
tools:
	@$(STATICCHECK) -version

# bench/ is its own module (the peers we compare with stay out of go.mod):
# its tests prove Toxiproxy's client works with spof proxy. -vet=off: lint
# runs go vet with all its checks, go test's subset would repeat them.
unit: unit-main unit-bench
unit-main:
	$(GO) test -race -count=1 -vet=off ./...
unit-bench:
	cd bench && $(GO) test -race -count=1 -vet=off ./...

# The analysis's property tests in full: under -race (unit) they check a
# tenth of their random models, as the detector makes each ten times slower.
props:
	$(GO) test -count=1 -vet=off -run 'BruteForce|Fused|Tripped' ./analysis

bench:
	$(GO) test -run XXX -bench . -benchmem ./analysis/ ./model/
	./bench/proxy.sh --runs 3

# The demo shop on loopback, every dependency behind spof proxy (examples/shop).
demo:
	./examples/shop/run.sh
