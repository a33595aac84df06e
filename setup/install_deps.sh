#!/usr/bin/env bash
# Installs every Debian package vmeval needs to build and test. Safe to run again: when
# everything is already present it prints nothing and exits 0.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates ccache
    libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev libspdlog-dev libstb-dev
    libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
    libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libcpp-httplib-dev zlib1g-dev
    python3 python3-jsonschema
    chromium                        # tests/report: the HTML gallery checked in a headless browser
    clang libclang-rt-14-dev llvm   # setup/fuzz.sh (libFuzzer) and its symbolizer
    slurm-wlm munge
    libsentencepiece-dev libpcre2-dev libicu-dev   # the open models' tokenizers (with LibTorch, setup/install_torch.sh)
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install_deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
    sudo="sudo"
fi
echo "install_deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
