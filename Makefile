# Thin wrapper over CMake. `make deps` installs everything on a fresh Debian 12 machine (as root),
# `make` builds bin/passenger, `make test` runs every test, `make start` runs the example app.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
DEPS_STAMP := $(BUILD_DIR)/.deps-installed

.PHONY: all deps build nginx-module apache2-module modules install test unit-test asan-test tsan-build tsan-test tsan-unit-test integration-test chaos-test fuzz-test start bench format clean

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
	cmake --build $(BUILD_DIR) -j$(JOBS) --target passenger
	mkdir -p bin
	ln -sf ../$(BUILD_DIR)/passenger bin/passenger
	for tool in passenger-status passenger-memory-stats passenger-config; do \
		ln -sf ../$(BUILD_DIR)/passenger bin/$$tool; done

# The nginx module (build/ngx_http_passenger_module.so; `bin/passenger-config about nginx-module`).
nginx-module: build
	cmake --build $(BUILD_DIR) --target nginx_module

# The Apache module (src/integrations/apache2/mod_passenger.so; `bin/passenger-config about
# apache2-module`).
apache2-module: build
	cmake --build $(BUILD_DIR) --target apache2_module

# Both modules side by side (CMakeLists.txt's server_modules), for the tests that use them.
modules: build
	cmake --build $(BUILD_DIR) -j2 --target server_modules

# Installs the binaries, the loaders and the modules under $(DESTDIR)$(PREFIX): bin/passenger
# (+ its tool names), lib/passenger/loaders/, lib/passenger/ngx_http_passenger_module.so and
# mod_passenger.so. passenger_root / PassengerRoot is then $(PREFIX); the binary finds the rest
# from where it runs.
PREFIX ?= /usr/local
LIBDIR = $(DESTDIR)$(PREFIX)/lib/passenger
install: $(DEPS_STAMP)
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD_DIR) -j$(JOBS) --target passenger nginx_module apache2_module
	install -d $(DESTDIR)$(PREFIX)/bin $(LIBDIR)/loaders/node $(LIBDIR)/loaders/ruby $(LIBDIR)/loaders/python
	install -m 755 $(BUILD_DIR)/passenger $(DESTDIR)$(PREFIX)/bin/passenger
	for tool in passenger-status passenger-memory-stats passenger-config; do \
		ln -sf passenger $(DESTDIR)$(PREFIX)/bin/$$tool; done
	install -m 644 loaders/node/*.js $(LIBDIR)/loaders/node/
	install -m 644 loaders/ruby/*.rb $(LIBDIR)/loaders/ruby/
	install -m 644 loaders/python/*.py $(LIBDIR)/loaders/python/
	install -m 644 $(BUILD_DIR)/ngx_http_passenger_module.so $(LIBDIR)/
	install -m 644 src/integrations/apache2/mod_passenger.so $(LIBDIR)/

# `make build` (and so `make start`) builds only bin/passenger; the tests are built here. The
# unit tests run as UNIT_SHARDS GoogleTest shards at once (scripts/run-unit-tests.sh says why not
# ctest, which starts the binary once per test); `ctest -R pattern` runs single tests.
UNIT_SHARDS ?= 4
unit-test: build
	cmake --build $(BUILD_DIR) -j$(JOBS) --target unit_tests
	./scripts/run-unit-tests.sh $(BUILD_DIR) $(UNIT_SHARDS) 300

asan-test: $(DEPS_STAMP)
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DPASSENGER_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS) --target unit_tests
	./scripts/run-unit-tests.sh $(ASAN_BUILD_DIR) $(UNIT_SHARDS) 900

# ThreadSanitizer: the integration tests where threads meet (the pool, the proxy, tunnels, static
# files, the front end) with every server at --core-threads 4 (2 cores are enough for races to
# show). A report fails the run; the core would otherwise be restarted by its watchdog and the
# test might pass. TSan must not kill the children the core forks. `make test` builds only the
# server under TSan (CI time: the unit tests are single-threaded but for the event loops', which
# the server exercises here); `make tsan-unit-test` adds the unit tests.
TSAN_TESTS ?= proxy.test.mjs pool-limits.test.mjs realtime-websocket.test.mjs static.test.mjs \
	frontend-idle.test.mjs inspection-status.test.mjs apache-module.test.mjs nginx-module.test.mjs
TSAN_REPORTS = $(abspath $(TSAN_BUILD_DIR))/reports
TSAN_ENV = TSAN_OPTIONS="die_after_fork=0 log_path=$(TSAN_REPORTS)/report"
tsan-build: $(DEPS_STAMP)
	cmake -S . -B $(TSAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPASSENGER_TSAN=ON >/dev/null
	cmake --build $(TSAN_BUILD_DIR) -j$(JOBS) --target passenger
	mkdir -p $(TSAN_BUILD_DIR)/bin && rm -rf $(TSAN_REPORTS) && mkdir -p -m 1777 $(TSAN_REPORTS)
	for tool in passenger passenger-status passenger-memory-stats passenger-config; do \
		ln -sf ../passenger $(TSAN_BUILD_DIR)/bin/$$tool; done

tsan-test: tsan-build modules
	cd tests/integration && $(TSAN_ENV) TEST_CORE_THREADS=4 \
		TEST_BIN_DIR=$(abspath $(TSAN_BUILD_DIR))/bin \
		node --test --test-concurrency=2 --test-timeout=180000 $(TSAN_TESTS)
	@if ls $(TSAN_REPORTS)/report.* >/dev/null 2>&1; then cat $(TSAN_REPORTS)/report.*; \
		echo "ThreadSanitizer found races (above)"; exit 1; fi

tsan-unit-test: tsan-build
	cmake --build $(TSAN_BUILD_DIR) -j$(JOBS) --target unit_tests
	cd $(TSAN_BUILD_DIR) && $(TSAN_ENV) ctest --output-on-failure --timeout 300 -j$(JOBS)
	@if ls $(TSAN_REPORTS)/report.* >/dev/null 2>&1; then cat $(TSAN_REPORTS)/report.*; \
		echo "ThreadSanitizer found races (above)"; exit 1; fi

# Two files at once on CI's 2 cores. The files mostly wait (200 s of CPU in 850 s of file time),
# and four at once measured 10-20 % faster on a busy machine, but nginx, Apache and HAProxy take
# their ports from freePort() without a retry, and apache-keepalive already fails now and then at
# two: a CI run that flakes lands nothing, so the margin the ASan shards won is not spent on that.
# Every file has its own ports, folders and users (tests/integration/README.md: what a test may
# assert when files run side by side). INTEGRATION_JOBS=4 for a quicker local run.
INTEGRATION_JOBS ?= 2
integration-test: build modules
	cd tests/integration && node --test --test-concurrency=$(INTEGRATION_JOBS) --test-timeout=120000 .

# Fault injection under load (tests/chaos/README.md): one file at a time, since each loads the
# machine on purpose; a few minutes in all. The buffer-folder scenario mounts a tmpfs (root).
chaos-test: build
	cd tests/chaos && node --test --test-concurrency=1 --test-timeout=180000 .

# The request parser and sanitizer under libFuzzer for FUZZ_SECONDS, starting from the seed corpus
# (new inputs stay in the build dir; a crash leaves its input there: add it to tests/fuzz/corpus).
fuzz-test: $(DEPS_STAMP)
	cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
		-DCMAKE_CXX_COMPILER=clang++ -DPASSENGER_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD_DIR) -j$(JOBS) --target request_fuzzer
	mkdir -p $(FUZZ_BUILD_DIR)/corpus
	$(FUZZ_BUILD_DIR)/request_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD_DIR)/ $(FUZZ_BUILD_DIR)/corpus tests/fuzz/corpus

test: unit-test asan-test tsan-test integration-test chaos-test fuzz-test

start: build
	cd examples/leaderboard && ../../bin/passenger start --min-instances 2 --sticky-sessions

bench: build
	./bench/run.sh

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(TSAN_BUILD_DIR) $(FUZZ_BUILD_DIR) bin
