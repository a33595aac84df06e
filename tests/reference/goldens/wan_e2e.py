"""Wan goldens for the pipeline variants and for `vmeval generate` end to end.

pipeline_ti2v/    Wan 2.2 TI2V-5B: one transformer with 48 in/out channels, the Wan 2.2 VAE
                  (z 48, patchified, 16x spatial), expand_timesteps in model_index.json.
morphic_lora.safetensors
                  A LoRA in the original Wan key names Morphic publishes ("blocks.N.self_attn.q.
                  lora_A.weight", no alpha), for the high-noise expert of pipeline_a14b;
                  stray_lora.safetensors adds a key no Wan module has.
*_io              Explicit-latent runs of TI2V and of Morphic (A14B + LoRA, first and last frame),
                  as wan_pipeline writes them.
e2e_*.json/.safetensors
                  What `vmeval generate` must produce for one question per variant: the image is
                  resized to the area budget as the Wan model cards do (round(sqrt(area * h/w)),
                  floored to the VAE x patch multiple; PIL bicubic), the prompt is the question's,
                  the negative prompt Wan's default, the seed a CPU generator's. frames_u8 are the
                  frames diffusers returns, rounded to 8 bits.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from diffusers import AutoencoderKLWan, WanImageToVideoPipeline
from safetensors.torch import load_file, save_file

from ._common import save_json, save_tensors, seed, single_threaded
from .wan import perturb_vae
from .wan_pipeline import (MAX_SEQ, a14b_pipeline, i2v_pipeline, save_spiece, scheduler, text_encoder,
                           tokenizer, transformer)

# Wan's sample_neg_prompt (its shared config); diffusers' Wan model cards pass the same text.
NEGATIVE = ("色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
            "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形"
            "的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走")
PROMPT = "The red ball rolls   along the maze\n to the exit."
LORA_RANK = 4
LORA_ALPHA = 16.0  # Morphic's generate.py default; scale alpha / rank


def vae22() -> AutoencoderKLWan:
    gen = torch.Generator().manual_seed(31)
    model = AutoencoderKLWan(base_dim=4, decoder_base_dim=6, z_dim=48, dim_mult=[1, 2, 2, 2], num_res_blocks=1,
                             temperal_downsample=[False, True, True], is_residual=True, in_channels=12,
                             out_channels=12, patch_size=2, scale_factor_spatial=16,
                             latents_mean=torch.randn(48, generator=gen).tolist(),
                             latents_std=(0.5 + torch.rand(48, generator=gen)).tolist())
    perturb_vae(model, std=0.15, seed_value=32)
    return model.eval()


def ti2v_pipeline(tok, te) -> WanImageToVideoPipeline:
    return WanImageToVideoPipeline(tokenizer=tok, text_encoder=te, image_encoder=None, image_processor=None,
                                   transformer=transformer(None, 14, in_channels=48, out_channels=48),
                                   vae=vae22(), scheduler=scheduler(5.0), expand_timesteps=True)


def morphic_lora(expert) -> dict:
    """q/k/v/o of self- and cross-attention in every block, original Wan names, small weights."""
    gen = torch.Generator().manual_seed(51)
    lora = {}
    for i in range(len(expert.blocks)):
        for attn in ("self_attn", "cross_attn"):
            for proj in ("q", "k", "v", "o"):
                dim = expert.config.num_attention_heads * expert.config.attention_head_dim
                key = f"blocks.{i}.{attn}.{proj}"
                lora[f"{key}.lora_A.weight"] = torch.randn(LORA_RANK, dim, generator=gen) * 0.1
                lora[f"{key}.lora_B.weight"] = torch.randn(dim, LORA_RANK, generator=gen) * 0.1
    return lora


def load_morphic(pipe, lora: dict) -> None:
    """diffusers reads original Wan names under "diffusion_model." and folds alpha / rank into the
    weights when each module has an ".alpha": that is Morphic's LoraConfig(r, lora_alpha)."""
    converted = {}
    for key, value in lora.items():
        converted["diffusion_model." + key] = value
        module = key.rsplit(".lora_", 1)[0]
        converted[f"diffusion_model.{module}.alpha"] = torch.tensor(LORA_ALPHA)
    pipe.load_lora_weights(converted, adapter_name="morphic")


def image_of(gen, height: int, width: int) -> PIL.Image.Image:
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 5, 5, generator=gen), size=(height, width),
                                             mode="bilinear", align_corners=False)
    return PIL.Image.fromarray((smooth[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())


def area_size(image: PIL.Image.Image, area: int, multiple: int) -> tuple:
    """The Wan model cards' sizing: keep the aspect ratio within `area`, floor to `multiple`."""
    aspect = image.height / image.width
    height = round(np.sqrt(area * aspect)) // multiple * multiple
    width = round(np.sqrt(area / aspect)) // multiple * multiple
    return height, width


def explicit_run(pipe, out: Path, name: str, image, last_image, z: int, scale: int, size: int) -> None:
    gen = torch.Generator().manual_seed(7)
    latents = torch.randn(1, z, 2, size // scale, size // scale, generator=gen)
    args = dict(image=image, prompt="A cat sits on the warm windowsill.", negative_prompt="blurry, static",
                height=size, width=size, num_frames=5, num_inference_steps=2, guidance_scale=4.0,
                max_sequence_length=MAX_SEQ)
    if last_image is not None:
        args["last_image"] = last_image
    if pipe.transformer_2 is not None:
        args["guidance_scale_2"] = 3.0
    with torch.no_grad():
        video = pipe(**args, latents=latents.clone(), output_type="pt").frames
    tensors = {"image": torch.from_numpy(np.asarray(image).copy()), "latents": latents, "video": video}
    if last_image is not None:
        tensors["last_image"] = torch.from_numpy(np.asarray(last_image).copy())
    save_tensors(out / f"{name}.safetensors", tensors)


def e2e(pipe, out: Path, name: str, settings: dict, first, last=None) -> None:
    """One question through the pipeline as `vmeval generate` runs it; the inputs go out as PNGs."""
    first.save(out / f"{name}_first.png")
    if last is not None:
        last.save(out / f"{name}_final.png")
    multiple = pipe.vae_scale_factor_spatial * pipe.transformer.config.patch_size[1]
    height, width = area_size(first, settings["width"] * settings["height"], multiple)
    args = dict(image=first.resize((width, height), PIL.Image.BICUBIC), prompt=PROMPT, negative_prompt=NEGATIVE,
                height=height, width=width, num_frames=settings["frames"], num_inference_steps=settings["steps"],
                guidance_scale=settings["guidance"], max_sequence_length=MAX_SEQ,
                generator=torch.Generator().manual_seed(settings["seed"]), output_type="pt")
    if last is not None:
        args["last_image"] = last.resize((width, height), PIL.Image.BICUBIC)
    if "guidance_2" in settings:
        args["guidance_scale_2"] = settings["guidance_2"]
    with torch.no_grad():
        frames = pipe(**args).frames
    save_tensors(out / f"{name}.safetensors", {
        "frames_u8": (frames * 255).round().to(torch.uint8),
        "resized": torch.from_numpy(np.asarray(args["image"]).copy())})
    save_json(out / f"{name}.json", {**settings, "out_height": height, "out_width": width, "prompt": PROMPT})


def generate(out: Path) -> None:
    single_threaded(write_all, out)


def write_all(out: Path) -> None:
    seed(0)
    folder_tok = out / "tokenizer_src"
    tok = tokenizer(folder_tok)
    te = text_encoder(len(tok))
    pipes = {"i2v": i2v_pipeline(tok, te), "a14b": a14b_pipeline(tok, te), "ti2v": ti2v_pipeline(tok, te)}
    for name, pipe in pipes.items():
        pipe.set_progress_bar_config(disable=True)
        pipe.save_pretrained(out / f"pipeline_{name}", safe_serialization=True)
        save_spiece(folder_tok, out / f"pipeline_{name}")
    shutil.rmtree(folder_tok)

    gen = torch.Generator().manual_seed(9)
    square = image_of(gen, 64, 64)
    explicit_run(pipes["ti2v"], out, "ti2v_io", square, None, z=48, scale=16, size=64)

    # Morphic: the LoRA file as published, merged into the high-noise expert by diffusers.
    lora = morphic_lora(pipes["a14b"].transformer)
    save_file({k: v.contiguous() for k, v in lora.items()}, str(out / "morphic_lora.safetensors"))
    # A key no Wan transformer has: the C++ loader must refuse the file and name it.
    stray = {**lora, "blocks.0.self_attn.norm_q.lora_A.weight": torch.zeros(LORA_RANK, 24)}
    save_file({k: v.contiguous() for k, v in stray.items()}, str(out / "stray_lora.safetensors"))
    morphic = WanImageToVideoPipeline.from_pretrained(out / "pipeline_a14b")
    morphic.set_progress_bar_config(disable=True)
    load_morphic(morphic, load_file(str(out / "morphic_lora.safetensors")))
    adapted = [n for n, _ in morphic.transformer.named_parameters() if "lora_A" in n]
    assert len(adapted) == len(lora) // 2, f"diffusers took {len(adapted)} of {len(lora) // 2} LoRA modules"
    assert morphic.transformer_2 is not None and not any(
        "lora" in n for n, _ in morphic.transformer_2.named_parameters()), "the LoRA must stay on the high-noise expert"
    square32 = square.resize((32, 32), PIL.Image.BICUBIC)
    last32 = image_of(gen, 32, 32)
    explicit_run(morphic, out, "morphic_io", square32, last32, z=16, scale=8, size=32)

    # End to end: 50x30 inputs (5:3) against area budgets that keep neither side.
    first = image_of(gen, 30, 50)
    final = image_of(gen, 30, 50)
    base = {"frames": 5, "steps": 2, "seed": 4321, "fps": 16}
    e2e(pipes["i2v"], out, "e2e_i2v", {**base, "width": 64, "height": 32, "guidance": 5.0}, first)
    e2e(pipes["a14b"], out, "e2e_a14b", {**base, "width": 64, "height": 32, "guidance": 4.0, "guidance_2": 3.0},
        first)
    e2e(pipes["ti2v"], out, "e2e_ti2v", {**base, "width": 64, "height": 64, "guidance": 5.0, "fps": 24}, first)
    e2e(morphic, out, "e2e_morphic", {**base, "width": 64, "height": 32, "guidance": 3.5, "guidance_2": 3.5},
        first, final)
    (out / "e2e_inputs.json").write_text(json.dumps({"negative_prompt": NEGATIVE}, ensure_ascii=False))
