"""Helpers shared by the golden generators."""
import json
from pathlib import Path

import torch
from safetensors.torch import save_file


def seed(n: int = 0) -> None:
    torch.manual_seed(n)


def save_tensors(path: Path, tensors: dict) -> None:
    """Saves named tensors (contiguous, on the CPU) as one safetensors file."""
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(path))


def save_json(path: Path, value) -> None:
    Path(path).write_text(json.dumps(value, indent=1, sort_keys=True))


def randomize(module: torch.nn.Module, std: float = 0.5, seed_value: int = 0) -> torch.nn.Module:
    """Overwrites every parameter with N(0, std): default initialisations leave some layers at zero
    (output projections, norms at one), and a zero layer would hide a wrong implementation."""
    gen = torch.Generator().manual_seed(seed_value)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32).to(p.dtype) * std)
    return module


def single_threaded(write, out: Path) -> None:
    """Runs write(out) on one thread: tiny models run hundreds of small ops, where thread start-up
    and spinning dominate on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        write(out)
    finally:
        torch.set_num_threads(threads)
