"""Wan goldens: tiny random-weight WanTransformer3DModel and AutoencoderKLWan saved as real
diffusers folders, with fixed inputs and outputs.

transformer_t2v/  (sharded) the T2V layout; forwards with one timestep per sample (batch 2) and
                  with per-token timesteps (Wan 2.2 TI2V expand_timesteps: first frame at t = 0).
transformer_i2v/  Wan 2.1 I2V: image_dim + added_kv_proj_dim (decoupled image cross-attention),
                  in_channels 36; 512 text tokens because WanAttnProcessor takes everything before
                  the last 512 context tokens as image tokens.
transformer_flf2v/ the same with pos_embed_seq_len (first/last-frame model: two images per sample).
vae21/            the 2.1 VAE shape of diffusers' own tests (base_dim 3, z_dim 16).
vae22/            a 2.2-style VAE: is_residual, patch_size 2 (12 pixel channels), z_dim 48,
                  decoder_base_dim != base_dim.
Each VAE: encode (posterior mode) and decode of a 9-frame video (1 + 4k frames, so the encoder's
first-frame-then-chunks-of-4 path and the decoder's per-frame cache are both exercised)."""
from pathlib import Path

import torch
from diffusers import AutoencoderKLWan, WanTransformer3DModel

from ._common import randomize, save_json, save_tensors, seed

TEXT_DIM = 16


def transformer(in_channels=4, out_channels=4, image_dim=None, added_kv=None, pos_embed_seq_len=None):
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        image_dim=image_dim,
        added_kv_proj_dim=added_kv,
        rope_max_seq_len=32,
        pos_embed_seq_len=pos_embed_seq_len,
    )
    # std 0.2 keeps the 24-wide activations O(1) through both blocks and the modulation.
    randomize(model, std=0.2, seed_value=11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # Norm weights near one so a missing or swapped affine term shows, without blowing up.
            if ("norm" in name) and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape))
    return model.eval()


def gen_transformers(out: Path) -> None:
    seed(1)
    t2v = transformer()
    t2v.save_pretrained(out / "transformer_t2v", safe_serialization=True, max_shard_size="20KB")
    # 3 latent frames of 8 x 8 -> 3 x 4 x 4 = 48 tokens.
    x = torch.randn(2, 4, 3, 8, 8)
    ctx = torch.randn(2, 7, TEXT_DIM)
    t = torch.tensor([999.0, 287.5])
    tokens_per_frame = 4 * 4
    per_token = torch.full((2, 48), 640.0)
    per_token[:, :tokens_per_frame] = 0.0  # the conditioning frame is clean
    per_token[1, tokens_per_frame:] = 123.0
    with torch.no_grad():
        y = t2v(x, t, ctx, return_dict=False)[0]
        y_tok = t2v(x, per_token, ctx, return_dict=False)[0]
    save_tensors(out / "transformer_t2v.safetensors",
                 {"hidden_states": x, "timestep": t, "encoder_hidden_states": ctx, "output": y,
                  "timestep_per_token": per_token, "output_per_token": y_tok})

    seed(2)
    i2v = transformer(in_channels=36, out_channels=4, image_dim=20, added_kv=24)
    i2v.save_pretrained(out / "transformer_i2v", safe_serialization=True)
    x = torch.randn(1, 36, 2, 6, 8)
    ctx = torch.randn(1, 512, TEXT_DIM)
    img = torch.randn(1, 5, 20)
    t = torch.tensor([500.0])
    # bf16 as from_pretrained loads it: _keep_in_fp32_modules stay fp32.
    i2v_bf16 = WanTransformer3DModel.from_pretrained(out / "transformer_i2v", torch_dtype=torch.bfloat16).eval()
    with torch.no_grad():
        y = i2v(x, t, ctx, img, return_dict=False)[0]
        y_bf16 = i2v_bf16(x.bfloat16(), t, ctx.bfloat16(), img.bfloat16(), return_dict=False)[0]
    save_tensors(out / "transformer_i2v.safetensors",
                 {"hidden_states": x, "timestep": t, "encoder_hidden_states": ctx,
                  "encoder_hidden_states_image": img, "output": y, "output_bf16": y_bf16})

    seed(3)
    flf = transformer(in_channels=36, out_channels=4, image_dim=20, added_kv=24, pos_embed_seq_len=10)
    with torch.no_grad():
        flf.condition_embedder.image_embedder.pos_embed.copy_(0.5 * torch.randn(1, 10, 20))
    flf.save_pretrained(out / "transformer_flf2v", safe_serialization=True)
    x = torch.randn(1, 36, 2, 4, 4)
    ctx = torch.randn(1, 512, TEXT_DIM)
    img = torch.randn(2, 5, 20)  # first and last frame embeddings, stacked on the batch axis
    t = torch.tensor([731.0])
    with torch.no_grad():
        y = flf(x, t, ctx, img, return_dict=False)[0]
    save_tensors(out / "transformer_flf2v.safetensors",
                 {"hidden_states": x, "timestep": t, "encoder_hidden_states": ctx,
                  "encoder_hidden_states_image": img, "output": y})


def perturb_vae(vae: torch.nn.Module, std: float, seed_value: int) -> None:
    randomize(vae, std=std, seed_value=seed_value)
    gen = torch.Generator().manual_seed(seed_value + 1)
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if name.endswith("gamma"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))


def gen_vae(out: Path, name: str, vae: AutoencoderKLWan, video: torch.Tensor) -> None:
    vae.eval()
    vae.save_pretrained(out / name, safe_serialization=True)
    with torch.no_grad():
        h = vae._encode(video)
        mode = vae.encode(video).latent_dist.mode()
        z = torch.randn_like(mode)
        decoded = vae.decode(z).sample
        # The pipelines' normalisation of encoded latents (WanImageToVideoPipeline.prepare_latents).
        mean = torch.tensor(vae.config.latents_mean).view(1, vae.config.z_dim, 1, 1, 1).to(mode.dtype)
        inv_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, vae.config.z_dim, 1, 1, 1).to(mode.dtype)
        normalized = (mode - mean) * inv_std
    vae_bf16 = AutoencoderKLWan.from_pretrained(out / name, torch_dtype=torch.bfloat16).eval()
    with torch.no_grad():
        mode_bf16 = vae_bf16.encode(video.bfloat16()).latent_dist.mode()
        decoded_bf16 = vae_bf16.decode(z.bfloat16()).sample
    save_tensors(out / f"{name}.safetensors",
                 {"video": video, "latent_mode": mode, "moments": h, "latents": z, "decoded": decoded,
                  "latent_normalized": normalized, "latent_mode_bf16": mode_bf16, "decoded_bf16": decoded_bf16})


def gen_vaes(out: Path) -> None:
    seed(4)
    vae21 = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                             temperal_downsample=[False, True, True])
    perturb_vae(vae21, std=0.15, seed_value=21)
    gen_vae(out, "vae21", vae21, torch.rand(1, 3, 9, 16, 16) * 2 - 1)

    seed(5)
    z = 48
    vae22 = AutoencoderKLWan(base_dim=4, decoder_base_dim=6, z_dim=z, dim_mult=[1, 2, 2, 2], num_res_blocks=1,
                             temperal_downsample=[False, True, True], is_residual=True, in_channels=12,
                             out_channels=12, patch_size=2, scale_factor_spatial=16,
                             latents_mean=torch.randn(z).tolist(), latents_std=(0.5 + torch.rand(z)).tolist())
    perturb_vae(vae22, std=0.15, seed_value=22)
    gen_vae(out, "vae22", vae22, torch.rand(1, 3, 9, 32, 32) * 2 - 1)


# The released models' configurations (local_models.md 1.5, 1.6), for structure checks: the C++
# modules built from them must declare exactly the reference's state_dict names and shapes.
REAL_CONFIGS = {
    "wan21_i2v_14b": (WanTransformer3DModel, dict(
        patch_size=[1, 2, 2], num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
        text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", eps=1e-6, image_dim=1280, added_kv_proj_dim=5120, rope_max_seq_len=1024)),
    "wan22_i2v_a14b": (WanTransformer3DModel, dict(
        patch_size=[1, 2, 2], num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
        text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)),
    "wan22_ti2v_5b": (WanTransformer3DModel, dict(
        patch_size=[1, 2, 2], num_attention_heads=24, attention_head_dim=128, in_channels=48, out_channels=48,
        text_dim=4096, freq_dim=256, ffn_dim=14336, num_layers=30, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)),
    "wan21_vae": (AutoencoderKLWan, dict(
        base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
        temperal_downsample=[False, True, True])),
    "wan22_vae": (AutoencoderKLWan, dict(
        base_dim=160, decoder_base_dim=256, z_dim=48, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
        temperal_downsample=[False, True, True], is_residual=True, in_channels=12, out_channels=12, patch_size=2,
        scale_factor_spatial=16, latents_mean=[0.0] * 48, latents_std=[1.0] * 48)),
}


def gen_structures(out: Path) -> None:
    result = {}
    for name, (cls, config) in REAL_CONFIGS.items():
        with torch.device("meta"):  # shapes only: no memory for 14B parameters
            model = cls(**config)
        result[name] = {"config": config,
                        "tensors": {k: list(v.shape) for k, v in model.state_dict().items()}}
    save_json(out / "structures.json", result)


def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    gen_transformers(out)
    gen_vaes(out)
    gen_structures(out)
