#!/usr/bin/env bash
# The original's entry point for getting a model, kept for habit: downloads the model's weights from
# the Hugging Face Hub with `vmeval pull` (building vmeval first when needed), e.g.
#   setup/install_model.sh svd wan-2.2-ti2v-5b
#   setup/install_model.sh --model svd            (the original's spelling)
# Options after the models (--dir, --revision, --jobs, --dry-run) go to `vmeval pull`.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
for a in "$@"; do
    case "$a" in
        --model|-m) ;;  # the original took --model NAME; the name itself follows as a plain argument
        --all|--opensource) args+=(all-local) ;;
        -h|--help) echo "usage: $0 MODEL... [--dir DIR] [--revision REV] [--jobs N] [--dry-run]"; exit 0 ;;
        *) args+=("$a") ;;
    esac
done
if [[ ${#args[@]} -eq 0 ]]; then
    echo "usage: $0 MODEL... [--dir DIR] [--revision REV] [--jobs N] [--dry-run]  (see: vmeval models)" >&2
    exit 2
fi
[[ -x build/vmeval ]] || setup/build.sh
exec build/vmeval pull "${args[@]}"
