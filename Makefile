# cachet's front door.  Every target installs what is missing first, so on a
# fresh Debian 12 machine `make demo` and `make check` do all the set-up.
BUILD        ?= build
BUILD_SAN    ?= build-sanitize
BUILD_REL    ?= build-release
BUILD_FUZZ   ?= build-fuzz
FUZZ_SECONDS ?= 30
MESON_TEST   = meson test --print-errorlogs --num-processes 2 --wrapper $(CURDIR)/scripts/tap-wrap

.PHONY: all deps build check check-sanitize bench fuzz demo clean

all: build

deps:
	@scripts/install-deps
	@scripts/build-llama >/dev/null

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

# All tests; ends with the line "N passed, N failed, N skipped".
check: build
	-@$(MESON_TEST) -C $(BUILD) >$(BUILD)/test-output.txt 2>&1; grep -E '^ *[0-9]+/[0-9]+ ' $(BUILD)/test-output.txt || cat $(BUILD)/test-output.txt
	@scripts/test-summary $(BUILD)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
check-sanitize: deps
	@[ -f $(BUILD_SAN)/build.ninja ] || meson setup $(BUILD_SAN) -Dbuildtype=debug \
	    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all
	meson compile -C $(BUILD_SAN)
	-@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MESON_TEST) -C $(BUILD_SAN) --timeout-multiplier 3 >$(BUILD_SAN)/test-output.txt 2>&1; \
	    grep -E '^ *[0-9]+/[0-9]+ ' $(BUILD_SAN)/test-output.txt || cat $(BUILD_SAN)/test-output.txt
	@scripts/test-summary $(BUILD_SAN)

# Benchmarks in an optimised build; each prints its ratio to a floor
# measured in the same run.
bench: deps
	@[ -f $(BUILD_REL)/build.ninja ] || meson setup $(BUILD_REL) -Dbuildtype=release -Dtests=false
	meson compile -C $(BUILD_REL)
	@scripts/bench $(BUILD_REL)

# Every libFuzzer target for FUZZ_SECONDS each, from its seed corpus.
fuzz: deps
	@[ -f $(BUILD_FUZZ)/build.ninja ] || CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Dtests=false \
	    -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link
	meson compile -C $(BUILD_FUZZ)
	@scripts/fuzz $(BUILD_FUZZ) $(FUZZ_SECONDS)

# The main job: an end-to-end run on the embedded defaults.
demo: build
	@scripts/demo $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_REL) $(BUILD_FUZZ)
