# reef - the two commands a new user needs are `make demo` and `make test`.
# Everything else is here for developers: `make` builds build/reef.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= 2
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test test-fast demo fuzz bench bench-pprof bench-scan bench-watch soak clean

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

bench-watch: build
	@REEF=$(BUILD)/reef bench/watch.sh

# reef watch's 20-minute soak (scripts/soak.sh): flat memory over 50,000
# polls and more, on the plain build, then on the ASan+UBSan build
# (LeakSanitizer at exit); fails if either fails.  SOAK_ASAN=0: the plain
# build only.
soak: build
	@rc=0; REEF=$(BUILD)/reef scripts/soak.sh -o /tmp/reef-soak || rc=1; \
	if [ "$${SOAK_ASAN:-1}" = 1 ]; then \
	  cmake -S . -B $(ASAN_BUILD) -DREEF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null && \
	  { cmake --build $(ASAN_BUILD) -j$(JOBS) --target reef >$(ASAN_BUILD)/build.log 2>&1 || { cat $(ASAN_BUILD)/build.log; exit 1; }; } && \
	  { REEF=$(ASAN_BUILD)/reef scripts/soak.sh -o /tmp/reef-soak-asan || rc=1; }; \
	fi; \
	exit $$rc

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
