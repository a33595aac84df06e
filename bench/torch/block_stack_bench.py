#!/usr/bin/env python3
"""One forward of a stack of Wan-layout transformer blocks (diffusers WanTransformerBlock: adaLN
LayerNorm, self-attention with 3D RoPE, cross-attention to text, GELU-tanh FFN) in Python and in
C++ (bench/torch/block_stack_bench.cpp, our blocks), with the same random weights, inputs, CPU and
thread count. Saves the weights and inputs as safetensors, starts the C++ program (which checks its
output against Python's before timing), then alternates one Python forward and one C++ forward
per run so that both see the same machine load, and prints both medians and the ratio.

Usage: block_stack_bench.py CPP_BENCH [--threads N] [--runs N] [--layers 4] [--dim 1024]
                            [--heads 16] [--frames 4 --height 32 --width 32] [--context 77]
                            [--work DIR]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from diffusers.models.transformers.transformer_wan import WanRotaryPosEmbed, WanTransformerBlock
from safetensors.torch import save_file


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cpp_bench", help="path of the built block_stack_bench program")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--ffn", type=int, default=4096)
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--height", type=int, default=32, help="latent height; patches are 2x2")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--context", type=int, default=77)
    p.add_argument("--work", type=Path, default=None, help="folder for weights and inputs (default: a temp dir)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    work = args.work or Path(tempfile.mkdtemp(prefix="block_stack_bench_"))
    work.mkdir(parents=True, exist_ok=True)

    blocks = torch.nn.ModuleList(
        WanTransformerBlock(args.dim, args.ffn, args.heads, cross_attn_norm=True, eps=1e-6)
        for _ in range(args.layers)
    ).eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for prm in blocks.parameters():
            prm.copy_(torch.randn(prm.shape, generator=gen) * 0.02)
    head_dim = args.dim // args.heads
    rope = WanRotaryPosEmbed(head_dim, (1, 2, 2), 1024)
    cos, sin = rope(torch.zeros(1, 1, args.frames, args.height, args.width))
    seq = cos.shape[1]
    x = torch.randn(1, seq, args.dim, generator=gen)
    context = torch.randn(1, args.context, args.dim, generator=gen)
    temb = torch.randn(1, 6, args.dim, generator=gen) * 0.1

    def forward():
        h = x
        for b in blocks:
            h = b(h, context, temb, (cos, sin))
        return h

    with torch.inference_mode():
        reference = forward()

    save_file({f"blocks.{k}": v.contiguous() for k, v in blocks.state_dict().items()}, str(work / "weights.safetensors"))
    save_file({"x": x, "context": context, "temb": temb, "reference": reference}, str(work / "inputs.safetensors"))
    config = {"layers": args.layers, "dim": args.dim, "heads": args.heads, "ffn_dim": args.ffn, "eps": 1e-6,
              "frames": args.frames, "height": args.height, "width": args.width}
    (work / "config.json").write_text(json.dumps(config))

    cmd = [str(args.cpp_bench), str(work), "--threads", str(args.threads), "--warmup", str(args.warmup), "--serve"]
    cpp = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = cpp.stdout.readline()
    if not line:
        print(f"C++ bench failed ({cpp.wait()}): its output does not match Python's or it could not load", file=sys.stderr)
        return 1
    check = json.loads(line)

    def cpp_run() -> float:
        cpp.stdin.write("run\n")
        cpp.stdin.flush()
        return json.loads(cpp.stdout.readline())["s"]

    py_times, cpp_times = [], []
    with torch.inference_mode():
        for _ in range(args.warmup):
            forward()
        for _ in range(args.runs):
            start = time.perf_counter()
            forward()
            py_times.append(time.perf_counter() - start)
            cpp_times.append(cpp_run())
    cpp.stdin.close()
    cpp.wait()
    python_s, cpp_s = statistics.median(py_times), statistics.median(cpp_times)

    print(f"stack: {args.layers} blocks, dim {args.dim}, {args.heads} heads, seq {seq} + {args.context} context, "
          f"ffn {args.ffn}, fp32, {args.threads} threads, median of {args.runs}")
    print(f"outputs: max |C++ - Python| = {check['max_abs']:.3g} (cosine {check['cosine']:.8f})")
    print(f"python (diffusers): median {python_s * 1000:.1f} ms (min {min(py_times) * 1000:.1f})")
    print(f"c++ (vmeval blocks): median {cpp_s * 1000:.1f} ms (min {min(cpp_times) * 1000:.1f})")
    print(f"ratio c++/python: {cpp_s / python_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
