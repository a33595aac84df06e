#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in ./build-fuzz and runs each one over its
# seed corpus (tests/fuzz/corpus/<target>/) for a while. A crash, a sanitizer report, a timeout or
# running out of memory fails the script and prints the input that caused it.
# Usage: setup/fuzz.sh [seconds-per-target, default 20] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
setup/install_deps.sh

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ \
      -DVMEVAL_FUZZ=ON -DVMEVAL_BUILD_TESTS=OFF -DVMEVAL_BUILD_BENCH=OFF -DVMEVAL_WITH_TORCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target vmeval_fuzz_all

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for f in tests/fuzz/*_fuzz.cpp; do
        t=$(basename "$f" _fuzz.cpp)
        targets+=("$t")
    done
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
for t in "${targets[@]}"; do
    seeds="tests/fuzz/corpus/$t"
    # New inputs go to the build folder, so the seeds in the repository stay as reviewed.
    work="build-fuzz/corpus/$t"
    artifacts="build-fuzz/artifacts/$t/"
    mkdir -p "$work" "$artifacts"
    log="build-fuzz/$t.log"
    set +e
    "build-fuzz/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    if [[ $rc -eq 0 ]]; then
        printf '%-20s ok      %10s executions in %ss, coverage %s edges\n' "$t" "${execs:-?}" "$seconds" "${cov:-?}"
    else
        printf '%-20s FAILED  (exit %d) after %s executions\n' "$t" "$rc" "${execs:-?}"
        grep -E 'ERROR: |runtime error|SUMMARY|==[0-9]+==|Test unit written to|uncaught exception|terminate called' "$log" | head -20
        echo "  full log: $log; reproduce with: build-fuzz/tests/fuzz/${t}_fuzz <the file above>"
        failed+=("$t")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: findings in: ${failed[*]}" >&2
    exit 1
fi
