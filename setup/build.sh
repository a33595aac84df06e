#!/usr/bin/env bash
# Installs the system packages (when missing), configures and builds vmeval into ./build.
# Extra arguments go to CMake's configure step, e.g. setup/build.sh -DVMEVAL_WITH_TORCH=OFF for an
# API-only build without LibTorch (local models then list as unavailable).
set -euo pipefail
cd "$(dirname "$0")/.."
setup/install_deps.sh
torch=()
case " $* " in
    *" -DVMEVAL_WITH_TORCH="*) ;;
    *) setup/install_torch.sh && torch=(-DVMEVAL_WITH_TORCH=ON) ;;  # fail loudly if LibTorch is not found
esac
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${torch[@]}" "$@" >/dev/null
cmake --build build -j"$(nproc)"
