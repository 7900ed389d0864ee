# rcluster: the commands the README gives.
GO ?= go
LDFLAGS := -X github.com/rcluster/rcluster/internal/version.Version=$(shell git describe --tags --always --dirty 2>/dev/null || echo dev) \
           -X github.com/rcluster/rcluster/internal/version.Commit=$(shell git rev-parse HEAD 2>/dev/null || echo unknown) \
           -X github.com/rcluster/rcluster/internal/version.Date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
# First port of the demo cluster (six nodes: DEMO_PORT to DEMO_PORT+5).
DEMO_PORT ?= 7000

.PHONY: build test test-builds test-scale demo demo-down docs clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o rcluster ./cmd/rcluster

# Unit, golden and integration tests (the last start real redis-server nodes).
test:
	$(GO) test -race -count=1 -timeout 60m ./...

# The end-to-end comparisons again on the other builds (../shared/servers or
# $RCLUSTER_SERVERS), each against its own CLI. TestFaults (long, and
# about server faults rather than text) runs on Debian's redis and on
# Valkey 8, whose replicas inherit the slot states.
OTHER_BUILDS ?= redis-7.2.3 valkey-8.0.1
FAULT_BUILDS ?= valkey-8.0.1
test-builds:
	for b in $(OTHER_BUILDS); do \
	  RCLUSTER_E2E_BUILD=$$b $(GO) test -race -count=1 -p 1 -timeout 60m -skip 'TestFaults' ./internal/e2e/ || exit 1; \
	done
	for b in $(FAULT_BUILDS); do \
	  RCLUSTER_E2E_BUILD=$$b $(GO) test -race -count=1 -timeout 60m -run 'TestFaults' ./internal/e2e/ || exit 1; \
	done

# A cluster of 150 nodes (issue 17): create, then fix, rebalance and
# reshard must end within seconds. A few minutes; left out of make test.
test-scale:
	RCLUSTER_SCALE=1 $(GO) test -v -count=1 -p 1 -timeout 20m -run 'TestLargeCluster' ./internal/e2e/

# Start six local redis-server nodes in .rcluster-local, create a cluster on
# them (rcluster local up) and check it.
demo: build
	./rcluster local up --port $(DEMO_PORT)
	./rcluster check 127.0.0.1:$(DEMO_PORT)

# Stop exactly the nodes demo started.
demo-down:
	@if [ -x ./rcluster ]; then ./rcluster local down; else $(GO) run ./cmd/rcluster local down; fi

# Regenerate docs/commands and docs/man from the command tree.
docs:
	$(GO) run ./internal/gendocs

clean: demo-down
	rm -rf rcluster dist .rcluster-local
