# gpubridge: the README's two commands, and a few more.
#   make demo        set up, build, run the main job (gbridge demo)
#   make demo-clocks the clock benchmark summary
#   make check       set up, build, run every test
#   make bench       build and run the benchmarks, then race the actor runtime
#                    against CAF and Erlang (PEER_RUNS runs per row, default 3)
#   make check-asan  every test under AddressSanitizer + UBSan
#   make check-tsan  the concurrency tests under ThreadSanitizer
#   make install     PREFIX=/usr/local by default
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
WERROR ?= ON
CMAKE_FLAGS ?=
PEER_RUNS ?= 3
CMAKE_ARGS = -DGB_WERROR=$(WERROR) $(CMAKE_FLAGS)
CTEST = ctest --output-on-failure --timeout 600 -j$(JOBS)

.PHONY: all deps build demo demo-clocks check bench check-asan check-tsan install clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	$(BUILD)/gbridge demo

demo-clocks: build
	$(BUILD)/bench/bench_clock_clocks --summary

check: build
	cd $(BUILD) && $(CTEST)

bench:
	@scripts/deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)
	scripts/run-bench.sh $(BUILD)
	scripts/bench-peers.sh --runs $(PEER_RUNS) $(BUILD)

check-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGB_SANITIZE=address -DGB_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(CTEST)

check-tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DGB_SANITIZE=thread -DGB_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
	  $(CTEST) -L concurrency

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-tsan
