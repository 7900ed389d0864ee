# rcluster: the commands the README gives.
GO ?= go
LDFLAGS := -X github.com/rcluster/rcluster/internal/version.Version=$(shell git describe --tags --always --dirty 2>/dev/null || echo dev) \
           -X github.com/rcluster/rcluster/internal/version.Commit=$(shell git rev-parse HEAD 2>/dev/null || echo unknown) \
           -X github.com/rcluster/rcluster/internal/version.Date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: build test demo clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o rcluster ./cmd/rcluster

# Unit, golden and integration tests (the last start real redis-server nodes).
test:
	$(GO) test -race -count=1 -timeout 60m ./...

# Start six local nodes, create a cluster on them with rcluster and check it.
demo: build
	./scripts/demo.sh

clean:
	rm -f rcluster
	./scripts/demo.sh down 2>/dev/null || true
