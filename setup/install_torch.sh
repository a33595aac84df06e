#!/usr/bin/env bash
# Installs LibTorch (the PyPI `torch` wheel, whose share/cmake/Torch the build uses) and the Python
# reference packages that only the `reference` tests use. Versions are pinned: the goldens are the
# reference implementation's numbers, so the reference must not drift under the tests. Safe to run
# again: when everything is present at these versions it prints nothing and exits 0.
# Set VMEVAL_PYTHON to use another interpreter (default: python3 on PATH).
set -euo pipefail
python="${VMEVAL_PYTHON:-python3}"

pins=(
    torch==2.15.0          # LibTorch 2.15 with CUDA 13 (the GPU machines run CUDA 13)
    diffusers==0.42.1
    transformers==5.24.0
    tokenizers==0.23.3
    sentencepiece==0.2.3
    safetensors==0.8.0
    protobuf==7.36.2       # transformers' slow sentencepiece tokenizers read the model through it
    accelerate==1.15.0     # diffusers' low-memory model loading
    ftfy==6.3.1            # the Wan pipelines' prompt_clean
    peft==0.21.2           # diffusers' LoRA loading (the Morphic reference)
)

if "$python" - "${pins[@]}" <<'PY' 2>/dev/null; then exit 0; fi
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.strip().split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY

echo "install_torch.sh: installing ${pins[*]} (LibTorch and the reference packages, about 4 GB)" >&2
"$python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
