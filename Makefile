# reef - the two commands a new user needs are `make demo` and `make test`.
# Everything else is here for developers: `make` builds build/reef.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= 2
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test test-fast demo fuzz bench bench-pprof bench-scan clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) >$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@echo 'built $(BUILD)/reef'

# Unit and end-to-end tests, then the same under ASan+UBSan, then every
# fuzz harness for a bounded time.
test: deps
	@scripts/test.sh

# Only the plain build's tests: the quick loop while developing.
test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@scripts/demo.sh

# Longer fuzzing: FUZZ_SECONDS per harness (default 300).
fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} scripts/fuzz.sh

bench: build
	@bench/run.sh

bench-pprof: build
	@bench/pprof.sh

bench-scan: build
	@bench/scan.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
