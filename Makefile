# Thin wrapper over CMake. `make deps` installs everything on a fresh Debian 12 machine (as root),
# `make` builds bin/passenger, `make test` runs every test, `make start` runs the example app.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
DEPS_STAMP := $(BUILD_DIR)/.deps-installed

.PHONY: all deps build test unit-test asan-test integration-test start bench format clean

all: build

# Installed again when the install script or an npm lockfile changes.
$(DEPS_STAMP): scripts/install-deps.sh $(wildcard tests/integration/package-lock.json examples/*/package-lock.json)
	./scripts/install-deps.sh
	mkdir -p $(BUILD_DIR) && touch $@

deps:
	./scripts/install-deps.sh
	mkdir -p $(BUILD_DIR) && touch $(DEPS_STAMP)

build: $(DEPS_STAMP)
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD_DIR) -j$(JOBS)
	mkdir -p bin
	ln -sf ../$(BUILD_DIR)/passenger bin/passenger
	for tool in passenger-status passenger-memory-stats passenger-config; do \
		ln -sf ../$(BUILD_DIR)/passenger bin/$$tool; done

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 120

asan-test: $(DEPS_STAMP)
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DPASSENGER_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS) --target unit_tests
	cd $(ASAN_BUILD_DIR) && ctest --output-on-failure --timeout 300

integration-test: build
	cd tests/integration && node --test --test-concurrency=2 --test-timeout=120000 .

test: unit-test asan-test integration-test

start: build
	cd examples/leaderboard && ../../bin/passenger start --min-instances 2 --sticky-sessions

bench: build
	./bench/run.sh

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) bin
