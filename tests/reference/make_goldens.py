#!/usr/bin/env python3
"""Writes the reference goldens the C++ `reference` tests compare against.

Usage: make_goldens.py OUT_DIR [COMPONENT ...]

Each module in goldens/ (not starting with "_") defines generate(out: Path): it builds tiny
random-weight configurations with the real diffusers/transformers classes, saves them as real
model folders, and saves fixed inputs and outputs as safetensors. A component is regenerated only
when a generator or the library versions changed (OUT_DIR/<name>/.stamp).
"""
import hashlib
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # keep the source tree clean: goldens are built into the build folder
sys.path.insert(0, str(HERE))


def versions():
    import diffusers
    import ftfy
    import peft
    import safetensors
    import tokenizers
    import torch
    import transformers

    return f"torch {torch.__version__} diffusers {diffusers.__version__} transformers {transformers.__version__} tokenizers {tokenizers.__version__} safetensors {safetensors.__version__} ftfy {ftfy.__version__} peft {peft.__version__}"


def stamp_of(script: Path, libs: str) -> str:
    # Generators import each other's helpers (wan_pipeline trains its tokenizer with tokenizers.py),
    # so every generator's source is part of every stamp.
    h = hashlib.sha256(script.name.encode())
    for f in sorted((HERE / "goldens").glob("*.py")):
        h.update(f.read_bytes())
    h.update(libs.encode())
    return h.hexdigest()


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    wanted = set(sys.argv[2:])
    scripts = sorted(p for p in (HERE / "goldens").glob("*.py") if not p.name.startswith("_"))
    unknown = wanted - {p.stem for p in scripts}
    if unknown:
        print(f"make_goldens.py: no goldens/{', '.join(sorted(unknown))}.py", file=sys.stderr)
        return 2
    libs = versions()
    print(libs)
    for script in scripts:
        name = script.stem
        if wanted and name not in wanted:
            continue
        target = out / name
        stamp = stamp_of(script, libs)
        stamp_file = target / ".stamp"
        if stamp_file.exists() and stamp_file.read_text() == stamp:
            print(f"{name}: up to date")
            continue
        if target.exists():
            import shutil

            shutil.rmtree(target)
        target.mkdir(parents=True)
        start = time.monotonic()
        module = importlib.import_module(f"goldens.{name}")
        module.generate(target)
        stamp_file.write_text(stamp)
        print(f"{name}: written in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
