#!/usr/bin/env python3
"""One denoising step (two forwards: classifier-free guidance) of the real-size Wan transformer with
random weights, in diffusers (WanTransformer3DModel) and in C++ (bench/torch/wan_step_bench.cpp),
on the same device and dtype, one after the other so that each has the GPU to itself. Prints both
medians, the ratio C++/diffusers and the projected denoising time for --steps steps.

Default: the Wan 2.2 I2V A14B expert (40 layers, 40 x 128 heads, ffn 13824, 36 input channels) at
480x832, 81 frames (21 x 60 x 104 latents: 32,760 tokens) with 512 text tokens, bf16 on CUDA.

Usage: wan_step_bench.py CPP_BENCH [--device cuda] [--dtype bf16] [--runs 3] [--warmup 1]
                         [--steps 40] [size options as wan_step_bench: --layers ... --context]
Small CPU smoke run: --device cpu --dtype fp32 --layers 1 --heads 2 --head-dim 64 --ffn 256
                     --frames 2 --height 8 --width 8 --context 16
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
from diffusers import WanTransformer3DModel

SIZES = {"layers": 40, "heads": 40, "head-dim": 128, "ffn": 13824, "in": 36, "out": 16, "frames": 21,
         "height": 60, "width": 104, "context": 512}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def python_step(args) -> dict:
    device, dtype = args.device, DTYPES[args.dtype]
    with torch.device("meta"):
        model = WanTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=args.heads, attention_head_dim=args.head_dim,
            in_channels=args.in_, out_channels=args.out, text_dim=4096, freq_dim=256, ffn_dim=args.ffn,
            num_layers=args.layers, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6)
    start = time.perf_counter()
    model = model.to_empty(device=device).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
        for name, m in model.named_modules():
            if name.endswith("time_embedder"):  # diffusers keeps it in fp32
                m.float()
    init_s = time.perf_counter() - start
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(1, args.in_, args.frames, args.height, args.width, generator=gen, device=device, dtype=dtype)
    context = torch.randn(1, args.context, 4096, generator=gen, device=device, dtype=dtype) * 0.1
    uncond = torch.randn(1, args.context, 4096, generator=gen, device=device, dtype=dtype) * 0.1
    t = torch.full((1,), 900.0, device=device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()

    def step() -> float:
        sync(device)
        t0 = time.perf_counter()
        cond = model(x, t, context, return_dict=False)[0]
        un = model(x, t, uncond, return_dict=False)[0]
        (un + 5.0 * (cond - un)).abs().max().item()
        return time.perf_counter() - t0

    with torch.inference_mode():
        for _ in range(args.warmup):
            step()
        steps = [step() for _ in range(args.runs)]
    peak = torch.cuda.max_memory_allocated() if device.startswith("cuda") else 0
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {"step_s": statistics.median(steps), "steps": steps, "init_s": init_s, "peak_memory_bytes": peak}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cpp_bench")
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", default="bf16", choices=DTYPES)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=40, help="denoising steps for the projection")
    p.add_argument("--threads", type=int, default=0)
    for key, value in SIZES.items():
        p.add_argument("--" + key, type=int, default=value, dest=key.replace("-", "_") + ("_" if key == "in" else ""))
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    python = python_step(args)
    cmd = [args.cpp_bench, "--device", args.device, "--dtype", args.dtype, "--runs", str(args.runs),
           "--warmup", str(args.warmup), "--threads", str(args.threads)]
    for key in SIZES:
        cmd += ["--" + key, str(getattr(args, key.replace("-", "_") + ("_" if key == "in" else "")))]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        print(f"C++ bench failed ({run.returncode}): {run.stderr.strip()}", file=sys.stderr)
        return 1
    cpp = json.loads(run.stdout.strip().splitlines()[-1])

    gib = 1024 ** 3
    print(f"Wan transformer step (2 forwards, CFG): {args.layers} layers, {args.heads}x{args.head_dim} heads, "
          f"{cpp['tokens']} video + {args.context} text tokens, {args.dtype} on {args.device}, median of {args.runs}")
    print(f"diffusers:   {python['step_s']:.3f} s/step  peak {python['peak_memory_bytes'] / gib:.1f} GiB  "
          f"(runs {', '.join(f'{s:.3f}' for s in python['steps'])})")
    print(f"vmeval C++:  {cpp['step_s']:.3f} s/step  peak {cpp['peak_memory_bytes'] / gib:.1f} GiB "
          f"({cpp['peak_memory_kind']}; runs {', '.join(f'{s:.3f}' for s in cpp['steps'])})")
    print(f"ratio C++/diffusers: {cpp['step_s'] / python['step_s']:.3f}")
    print(f"projected denoising, {args.steps} steps: C++ {cpp['step_s'] * args.steps:.0f} s, "
          f"diffusers {python['step_s'] * args.steps:.0f} s (text encoding, VAE and expert moves not included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
