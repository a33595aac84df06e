"""Goldens for the shared building blocks (models/torch/blocks): each block is the real diffusers
class at a tiny size with randomized weights. For block NAME the folder holds NAME.safetensors
(its state_dict, loaded through the C++ loader so key names are checked), NAME_io.safetensors
(fixed inputs and reference outputs) and an entry in configs.json (constructor arguments)."""
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from diffusers.models.autoencoders.autoencoder_kl_wan import WanCausalConv3d
from diffusers.models.downsampling import Downsample2D
from diffusers.models.embeddings import (
    TimestepEmbedding,
    Timesteps,
    apply_rotary_emb,
    get_1d_rotary_pos_embed,
    get_timestep_embedding,
)
from diffusers.models.normalization import FP32LayerNorm, RMSNorm
from diffusers.models.resnet import AlphaBlender, ResnetBlock2D, SpatioTemporalResBlock, TemporalResnetBlock
from diffusers.models.transformers.transformer_wan import WanAttention, WanAttnProcessor, WanRotaryPosEmbed, WanTransformerBlock
from diffusers.models.upsampling import Upsample2D

from ._common import randomize, save_json, save_tensors, seed

_gen = torch.Generator().manual_seed(1234)


def rand(*shape, std=1.0):
    return torch.randn(*shape, generator=_gen, dtype=torch.float32) * std


class Writer:
    def __init__(self, out: Path):
        self.out = out
        self.configs = {}

    def block(self, name, module, config, io, std=0.3):
        """Randomizes `module`, runs `io(module)` -> {name: tensor} under no_grad, saves all."""
        randomize(module, std=std, seed_value=len(self.configs) + 1)
        module.eval()
        with torch.no_grad():
            tensors = io(module)
        save_tensors(self.out / f"{name}.safetensors", module.state_dict())
        save_tensors(self.out / f"{name}_io.safetensors", tensors)
        self.configs[name] = config

    def plain(self, name, tensors, config=None):
        save_tensors(self.out / f"{name}_io.safetensors", tensors)
        self.configs[name] = config or {}


def sdpa_cases(w: Writer):
    # Expected values by explicit fp64 softmax so the C++ wrapper is checked against the maths,
    # not against the same kernel.
    for d in (64, 128):
        q, k, v = rand(2, 4, 7, d), rand(2, 4, 11, d), rand(2, 4, 11, d)
        keep = torch.rand(2, 11, generator=_gen) > 0.3
        keep[:, 0] = True
        additive = rand(2, 7, 11)

        def ref(mask4):
            s = q.double() @ k.double().transpose(-1, -2) / math.sqrt(d)
            if mask4 is not None:
                s = s + mask4.double()
            return torch.softmax(s, -1) @ v.double()

        bool_as_add = torch.where(keep, 0.0, float("-inf"))[:, None, None, :]
        w.plain(f"sdpa_d{d}", {
            "q": q, "k": k, "v": v, "keep": keep, "additive": additive,
            "out_none": ref(None), "out_bool": ref(bool_as_add), "out_additive": ref(additive[:, None]),
        })


def layer_cases(w: Writer):
    w.block("linear", torch.nn.Linear(6, 5), {"in": 6, "out": 5},
            lambda m: (lambda x: {"x": x, "out": m(x)})(rand(3, 4, 6)))
    w.block("linear_nobias", torch.nn.Linear(6, 5, bias=False), {"in": 6, "out": 5},
            lambda m: (lambda x: {"x": x, "out": m(x)})(rand(3, 6)))
    w.block("conv2d", torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), {"in": 3, "out": 4},
            lambda m: (lambda x: {"x": x, "out": m(x)})(rand(2, 3, 9, 8)))
    w.block("conv3d", torch.nn.Conv3d(3, 4, (3, 3, 3), padding=(1, 1, 1)), {"in": 3, "out": 4},
            lambda m: (lambda x: {"x": x, "out": m(x)})(rand(1, 3, 4, 6, 5)))


def attention_cases(w: Writer):
    x = rand(2, 9, 32)
    ctx = rand(2, 5, 24)
    pad = torch.zeros(2, 1, 5)
    pad[1, 0, 3:] = -10000.0  # the additive key-padding mask diffusers pipelines build
    w.block("attn_self", Attention(query_dim=32, heads=2, dim_head=16),
            {"query_dim": 32, "heads": 2, "dim_head": 16},
            lambda m: {"x": x, "out": m(x)})
    w.block("attn_cross", Attention(query_dim=32, cross_attention_dim=24, heads=2, dim_head=16),
            {"query_dim": 32, "cross_attention_dim": 24, "heads": 2, "dim_head": 16},
            lambda m: {"x": x, "context": ctx, "mask": pad, "out": m(x, ctx),
                       "out_masked": m(x, ctx, attention_mask=pad)})
    w.block("attn_rms_per_head", Attention(query_dim=32, heads=2, dim_head=16, qk_norm="rms_norm", eps=1e-6, bias=True),
            {"query_dim": 32, "heads": 2, "dim_head": 16, "eps": 1e-6, "bias": True},
            lambda m: {"x": x, "out": m(x)})
    img = rand(2, 32, 4, 3)
    w.block("attn_vae", Attention(query_dim=32, heads=1, dim_head=32, norm_num_groups=8, eps=1e-6, bias=True,
                                   residual_connection=True, rescale_output_factor=1.0, upcast_softmax=True),
            {"query_dim": 32, "heads": 1, "dim_head": 32, "norm_num_groups": 8, "eps": 1e-6, "bias": True},
            lambda m: {"x": img, "out": m(img)})

    # Wan: RMS over the whole inner dim, RoPE on self-attention (head_dim 128), I2V image branch.
    rope = WanRotaryPosEmbed(128, (1, 2, 2), 1024)
    latents = torch.zeros(1, 4, 2, 4, 6)
    cos, sin = rope(latents)
    xs = rand(1, 12, 256)
    w.block("wan_attn_self", WanAttention(dim=256, heads=2, dim_head=128, eps=1e-6, processor=WanAttnProcessor()),
            {"dim": 256, "heads": 2, "eps": 1e-6, "latents": list(latents.shape), "patch": [1, 2, 2]},
            lambda m: {"x": xs, "out": m(xs, None, None, (cos, sin)), "rope_cos": cos, "rope_sin": sin})
    xc = rand(1, 6, 32)
    text, image = rand(1, 512, 32), rand(1, 4, 32)
    w.block("wan_attn_i2v", WanAttention(dim=32, heads=2, dim_head=16, eps=1e-6, added_kv_proj_dim=32,
                                         cross_attention_dim_head=16, processor=WanAttnProcessor()),
            {"dim": 32, "heads": 2, "eps": 1e-6, "added_kv_proj_dim": 32},
            lambda m: {"x": xc, "text": text, "image": image, "out": m(xc, torch.cat([image, text], 1))})


def norm_cases(w: Writer):
    x = rand(2, 5, 48) * 3 + 1
    w.block("rms_affine", RMSNorm(48, eps=1e-6), {"dim": 48, "eps": 1e-6}, lambda m: {"x": x, "out": m(x)})
    w.block("rms_plain", RMSNorm(48, eps=1e-5, elementwise_affine=False), {"dim": 48, "eps": 1e-5},
            lambda m: {"x": x, "out": m(x)})
    w.block("fp32_ln_plain", FP32LayerNorm(48, 1e-6, elementwise_affine=False), {"dim": 48, "eps": 1e-6},
            lambda m: {"x": x, "out": m(x)})
    w.block("fp32_ln_affine", FP32LayerNorm(48, 1e-6, elementwise_affine=True), {"dim": 48, "eps": 1e-6},
            lambda m: {"x": x, "out": m(x)})
    w.block("ln_affine", torch.nn.LayerNorm(48, eps=1e-5), {"dim": 48, "eps": 1e-5},
            lambda m: {"x": x, "out": m(x)})
    w.block("ln_plain", torch.nn.LayerNorm(48, eps=1e-5, elementwise_affine=False), {"dim": 48, "eps": 1e-5},
            lambda m: {"x": x, "out": m(x)})
    img = rand(2, 64, 3, 5) * 2 + 0.5
    w.block("group_norm", torch.nn.GroupNorm(32, 64, eps=1e-6), {"groups": 32, "channels": 64, "eps": 1e-6},
            lambda m: {"x": img, "out": m(img)})


def feed_forward_cases(w: Writer):
    x = rand(2, 5, 16)
    for act in ("gelu", "gelu-approximate", "geglu", "geglu-approximate", "swiglu", "linear-silu"):
        name = "ff_" + act.replace("-", "_")
        w.block(name, FeedForward(16, mult=4, activation_fn=act), {"dim": 16, "mult": 4, "activation_fn": act},
                lambda m: {"x": x, "out": m(x)})
    w.block("ff_wan", FeedForward(16, inner_dim=40, dim_out=12, activation_fn="gelu-approximate"),
            {"dim": 16, "inner_dim": 40, "dim_out": 12, "activation_fn": "gelu-approximate"},
            lambda m: {"x": x, "out": m(x)})


def embedding_cases(w: Writer):
    t = torch.tensor([0.0, 1.5, 250.0, 999.0])
    configs = {
        "svd": dict(embedding_dim=32, flip_sin_to_cos=True, downscale_freq_shift=0.0, scale=1.0, max_period=10000),
        "ddpm": dict(embedding_dim=33, flip_sin_to_cos=False, downscale_freq_shift=1.0, scale=2.0, max_period=1000),
    }
    w.plain("timesteps", {"t": t, **{k: get_timestep_embedding(t, **c) for k, c in configs.items()}}, configs)

    # SVD's temporal position embedding: time_proj (Timesteps(C, True, 0)) then time_pos_embed.
    frames = torch.arange(5, dtype=torch.float32)
    proj = Timesteps(16, True, 0)
    w.block("time_pos_embed", TimestepEmbedding(16, 64, out_dim=16), {"in_channels": 16, "time_embed_dim": 64,
            "out_dim": 16}, lambda m: {"frames": frames, "out": m(proj(frames))})
    cond = rand(4, 8)
    w.block("timestep_embedding_cond", TimestepEmbedding(32, 48, cond_proj_dim=8, post_act_fn="silu"),
            {"in_channels": 32, "time_embed_dim": 48, "cond_proj_dim": 8},
            lambda m: (lambda s: {"sample": s, "cond": cond, "out": m(s, cond)})(get_timestep_embedding(t, 32)))


def rope_cases(w: Writer):
    pos = torch.arange(10)
    x = rand(2, 3, 10, 16)
    cos_i, sin_i = get_1d_rotary_pos_embed(16, pos, 10000.0, use_real=True, repeat_interleave_real=True,
                                           freqs_dtype=torch.float64)
    cos_c, sin_c = get_1d_rotary_pos_embed(16, pos, 500.0, use_real=True, repeat_interleave_real=False,
                                           linear_factor=2.0, ntk_factor=1.5)
    cis = get_1d_rotary_pos_embed(16, pos, 10000.0, use_real=False)
    x_seq1 = x.transpose(1, 2).contiguous()
    w.plain("rope_1d", {
        "x": x, "cos_interleaved": cos_i, "sin_interleaved": sin_i, "cos_concat": cos_c, "sin_concat": sin_c,
        "cis_real": torch.view_as_real(cis),
        "rotated": apply_rotary_emb(x, (cos_i, sin_i)),
        "rotated_seq1": apply_rotary_emb(x_seq1, (cos_i, sin_i), sequence_dim=1),
        "rotated_complex": apply_rotary_emb(x_seq1, cis[None], use_real=False),
    })
    rope = WanRotaryPosEmbed(128, (1, 2, 2), 1024)
    latents = torch.zeros(1, 4, 3, 8, 12)
    cos, sin = rope(latents)
    w.plain("rope_wan", {"cos": cos, "sin": sin}, {"head_dim": 128, "patch": [1, 2, 2], "max_seq_len": 1024,
                                                   "latents": list(latents.shape)})


def conv_cases(w: Writer):
    x = rand(1, 4, 5, 6, 6)
    tail, cache2, cache1 = rand(1, 4, 3, 6, 6), rand(1, 4, 2, 6, 6), rand(1, 4, 1, 6, 6)
    w.block("causal_conv", WanCausalConv3d(4, 6, 3, padding=1), {"in": 4, "out": 6, "kernel": 3, "padding": 1},
            lambda m: {"x": x, "out": m(x), "tail": tail, "cache2": cache2, "cache1": cache1,
                       "out_cache2": m(tail, cache2), "out_cache1": m(tail, cache1)})
    w.block("causal_conv_time_only", WanCausalConv3d(4, 4, (3, 1, 1), padding=(1, 0, 0)),
            {"in": 4, "out": 4, "kernel": [3, 1, 1], "padding": [1, 0, 0]},
            lambda m: {"x": x, "out": m(x)})


def resnet_cases(w: Writer):
    x = rand(2, 32, 6, 6)
    temb = rand(2, 24)
    w.block("resnet2d", ResnetBlock2D(in_channels=32, out_channels=64, temb_channels=24, groups=32, eps=1e-6),
            {"in": 32, "out": 64, "temb": 24, "groups": 32, "eps": 1e-6},
            lambda m: {"x": x, "temb": temb, "out": m(x, temb)})
    w.block("resnet2d_scale_shift", ResnetBlock2D(in_channels=32, temb_channels=24, groups=8, eps=1e-5,
                                                  time_embedding_norm="scale_shift", output_scale_factor=2.0),
            {"in": 32, "temb": 24, "groups": 8, "eps": 1e-5},
            lambda m: {"x": x, "temb": temb, "out": m(x, temb)})
    w.block("resnet2d_no_temb", ResnetBlock2D(in_channels=32, temb_channels=None, groups=32, eps=1e-6),
            {"in": 32, "groups": 32}, lambda m: {"x": x, "out": m(x, None)})
    w.block("down_conv", Downsample2D(32, use_conv=True, out_channels=48, padding=1, name="op"),
            {"channels": 32, "out": 48, "padding": 1}, lambda m: {"x": x, "out": m(x)})
    w.block("down_conv_pad0", Downsample2D(32, use_conv=True, padding=0, name="op"),
            {"channels": 32, "padding": 0}, lambda m: {"x": x, "out": m(x)})
    w.block("down_pool", Downsample2D(32, use_conv=False, name="op"), {"channels": 32},
            lambda m: {"x": x, "out": m(x)})
    w.block("up_conv", Upsample2D(32, use_conv=True, out_channels=16), {"channels": 32, "out": 16},
            lambda m: {"x": x, "out": m(x), "out_sized": m(x, output_size=(13, 11))})
    w.block("up_plain", Upsample2D(32, use_conv=False), {"channels": 32}, lambda m: {"x": x, "out": m(x)})

    xt = rand(1, 32, 5, 4, 4)
    tt = rand(1, 5, 24)
    w.block("temporal_resnet", TemporalResnetBlock(32, 64, temb_channels=24, eps=1e-6),
            {"in": 32, "out": 64, "temb": 24, "eps": 1e-6}, lambda m: {"x": xt, "temb": tt, "out": m(xt, tt)})
    w.block("temporal_resnet_same", TemporalResnetBlock(32, 32, temb_channels=24, eps=1e-6),
            {"in": 32, "out": 32, "temb": 24, "eps": 1e-6}, lambda m: {"x": xt, "temb": tt, "out": m(xt, tt)})

    spatial, temporal = rand(2, 8, 5, 3, 3), rand(2, 8, 5, 3, 3)
    flat_s, flat_t = rand(10, 9, 8), rand(10, 9, 8)
    indicator = torch.tensor([[0, 1, 0, 0, 1], [1, 0, 0, 0, 0]], dtype=torch.float32)
    w.block("blend_images", AlphaBlender(0.3, "learned_with_images"), {"alpha": 0.3, "strategy": "learned_with_images"},
            lambda m: {"spatial": spatial, "temporal": temporal, "flat_spatial": flat_s, "flat_temporal": flat_t,
                       "indicator": indicator, "out": m(spatial, temporal, indicator),
                       "out_flat": m(flat_s, flat_t, indicator)}, std=1.0)
    w.block("blend_learned", AlphaBlender(0.3, "learned"), {"alpha": 0.3, "strategy": "learned"},
            lambda m: {"spatial": spatial, "temporal": temporal, "out": m(spatial, temporal)}, std=1.0)

    # SVD's UNet resnet: 2 videos x 5 frames, the first frame of each flagged as an image.
    xs, ts = rand(10, 32, 4, 4), rand(10, 24)
    flags = torch.tensor([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0]], dtype=torch.float32)
    w.block("spatio_temporal", SpatioTemporalResBlock(32, 64, temb_channels=24, eps=1e-5, merge_factor=0.4),
            {"in": 32, "out": 64, "temb": 24, "eps": 1e-5, "merge_factor": 0.4},
            lambda m: {"x": xs, "temb": ts, "indicator": flags, "out": m(xs, ts, flags)}, std=0.2)


def dit_block_cases(w: Writer):
    rope = WanRotaryPosEmbed(16, (1, 2, 2), 64)
    cos, sin = rope(torch.zeros(1, 4, 2, 4, 4))  # 8 tokens
    x, ctx = rand(2, 8, 64), rand(2, 7, 64)
    temb, temb_tok = rand(2, 6, 64) * 0.3, rand(2, 8, 6, 64) * 0.3
    cfg = {"dim": 64, "ffn_dim": 128, "heads": 4, "eps": 1e-6, "cross_attn_norm": True}
    w.block("dit_block", WanTransformerBlock(64, 128, 4, cross_attn_norm=True, eps=1e-6), cfg,
            lambda m: {"x": x, "context": ctx, "temb": temb, "temb_tokens": temb_tok, "rope_cos": cos,
                       "rope_sin": sin, "out": m(x, ctx, temb, (cos, sin)),
                       "out_tokens": m(x, ctx, temb_tok, (cos, sin))}, std=0.2)
    text, image = rand(1, 512, 64), rand(1, 3, 64)
    cfg_i2v = {"dim": 64, "ffn_dim": 128, "heads": 4, "eps": 1e-6, "cross_attn_norm": True, "added_kv_proj_dim": 64}
    w.block("dit_block_i2v", WanTransformerBlock(64, 128, 4, cross_attn_norm=True, eps=1e-6, added_kv_proj_dim=64),
            cfg_i2v, lambda m: {"x": x[:1], "text": text, "image": image, "temb": temb[:1], "rope_cos": cos,
                                "rope_sin": sin, "out": m(x[:1], torch.cat([image, text], 1), temb[:1], (cos, sin))},
            std=0.2)


def generate(out: Path) -> None:
    seed(0)
    torch.set_num_threads(1)
    w = Writer(out)
    sdpa_cases(w)
    layer_cases(w)
    attention_cases(w)
    norm_cases(w)
    feed_forward_cases(w)
    embedding_cases(w)
    rope_cases(w)
    conv_cases(w)
    resnet_cases(w)
    dit_block_cases(w)
    save_json(out / "configs.json", w.configs)
