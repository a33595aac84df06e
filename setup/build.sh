#!/usr/bin/env bash
# Installs the system packages (when missing), configures and builds vmeval into ./build.
# Extra arguments go to CMake's configure step, e.g. setup/build.sh -DVMEVAL_WITH_TORCH=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
setup/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
