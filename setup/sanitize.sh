#!/usr/bin/env bash
# Builds vmeval and its whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer in
# ./build-asan and runs every test the normal build runs. Any sanitizer report fails the run.
# Usage: setup/sanitize.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
setup/install_deps.sh

# gcc: the compiler of the normal build, so no second toolchain is needed for this job. -O1 -g1
# halves the compile time of -O2 -g (measured on models/api/veo.cpp) and keeps usable stack traces.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DVMEVAL_SANITIZE=address,undefined -DVMEVAL_BUILD_BENCH=OFF -DVMEVAL_WITH_TORCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"

# halt_on_error: the first report fails the test that caused it, with the report in its output.
# Child processes (the tests run build-asan/vmeval) inherit these settings.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 300 "$@"
