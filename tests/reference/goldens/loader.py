"""Loader goldens: one real diffusers model saved whole, sharded and as an fp16 variant, and a file
holding every dtype the loader reads, with the values it must produce (as float64)."""
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from ._common import randomize, save_json, save_tensors, seed


def generate(out: Path) -> None:
    seed(0)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=16,
    )
    randomize(vae, std=0.1)
    vae.save_pretrained(out / "single", safe_serialization=True)
    vae.save_pretrained(out / "sharded", safe_serialization=True, max_shard_size="20KB")
    vae.to(torch.float16).save_pretrained(out / "variant", safe_serialization=True, variant="fp16")
    vae.to(torch.float32)
    save_json(out / "shapes.json", {k: list(v.shape) for k, v in vae.state_dict().items()})

    gen = torch.Generator().manual_seed(1)
    base = torch.randn(3, 5, generator=gen, dtype=torch.float64) * 4
    stored = {
        "f64": base,
        "f32": base.float(),
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "f8_e4m3": base.to(torch.float8_e4m3fn),
        "f8_e5m2": base.to(torch.float8_e5m2),
        "i8": base.round().to(torch.int8),
        "u8": base.abs().round().to(torch.uint8),
        "i16": (base * 1000).round().to(torch.int16),
        "i32": (base * 1e6).round().to(torch.int32),
        "i64": (base * 1e12).round().to(torch.int64),
        "bool": base > 0,
        "u16": (base.abs() * 1000).round().to(torch.uint16),
        "u32": (base.abs() * 1e6).round().to(torch.uint32),
        "u64": (base.abs() * 1e12).round().to(torch.uint64),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.bfloat16),
    }
    save_tensors(out / "dtypes.safetensors", stored)
    expected = {}
    for k, v in stored.items():
        expected[k] = v.to(torch.float64) if v.dtype not in (torch.uint16, torch.uint32, torch.uint64) else v.to(torch.int64).to(torch.float64)
    save_tensors(out / "dtypes_expected.safetensors", expected)
