# make test: everything CI runs. It installs what the tests need first.
GO ?= go
# staticcheck is pinned by its module version in tools/go.mod (a `tool`
# directive), so lint needs nothing installed beforehand: `go tool` builds it.
STATICCHECK = $(GO) tool -modfile=$(CURDIR)/tools/go.mod staticcheck

.PHONY: test deps lint unit props bench demo

# lint, unit and props run two at a time: the tests spend much of their
# time waiting on sockets and child processes (the demo shop's chaos
# experiments), time that staticcheck's CPU fills. Each one's output is
# printed whole when it ends (--output-sync), so they never interleave; a
# make without output-sync (3.81, as on macOS) runs them one after the
# other. Any of them failing fails make test.
test: deps
ifneq ($(filter output-sync,$(.FEATURES)),)
	@echo "make test: lint, unit tests (-race) and the analysis's property tests run two at a time; each one's output is shown when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint unit props
else
	@$(MAKE) --no-print-directory lint unit props
endif

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

# bench/ is its own module (the peers we compare with stay out of go.mod):
# its tests prove Toxiproxy's client works with spof proxy. -vet=off: lint
# runs go vet with all its checks, go test's subset would repeat them.
unit:
	$(GO) test -race -count=1 -vet=off ./...
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
