"""Wan image-to-video pipeline goldens: tiny random-weight WanImageToVideoPipelines saved whole
(pipe.save_pretrained), run for 2 steps on CPU in fp32 with the inputs saved beside them.

pipeline/      Wan 2.1 I2V: umT5 text encoder, a sentencepiece tokenizer trained here (saved as
               T5Tokenizer), CLIPVisionModel image encoder + CLIPImageProcessor, a transformer with
               image_dim, AutoencoderKLWan, UniPC with flow sigmas (Wan's scheduler).
pipeline_a14b/ Wan 2.2 A14B: two experts (transformer, transformer_2) switched at
               boundary_ratio * 1000 with guidance_scale_2, no image encoder.
Each: one run from explicit latents (output_type="pt" and "latent") and one from a CPU generator
seed ("latent"). The image is already height x width and the CLIP crop size, so the resizes of
VideoProcessor and CLIPImageProcessor are identities and the comparison is exact.
"""
import shutil
import tempfile
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from diffusers import (AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline,
                       WanTransformer3DModel)
from transformers import (CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, T5Tokenizer,
                          UMT5Config, UMT5EncoderModel)

from ._common import randomize, save_json, save_tensors, seed
from .tokenizers import train_spm, write_corpus

TEXT_DIM = 16
SIZE = 32  # pixels: 4 x 4 latents, 2 x 2 patch tokens per latent frame
FRAMES = 5  # 2 latent frames
# WanAttnProcessor takes all but the last 512 context tokens as image tokens: the text must be 512.
MAX_SEQ = 512


# prompt_clean runs ftfy.fix_text (setup/install_torch.sh installs ftfy); on the plain ASCII prompts
# below it returns its input, which is all the C++ side (no ftfy yet) implements.


def tokenizer(folder: Path) -> T5Tokenizer:
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "corpus.txt"
        write_corpus(text)
        folder.mkdir(parents=True)
        train_spm(folder / "spiece", text, model_type="unigram", vocab_size=700,
                  character_coverage=0.98, byte_fallback=True, pad_id=0, eos_id=1, unk_id=2,
                  bos_id=-1, hard_vocab_limit=False)
    return T5Tokenizer.from_pretrained(folder)


def text_encoder(vocab: int) -> UMT5EncoderModel:
    config = UMT5Config(vocab_size=vocab, d_model=TEXT_DIM, d_kv=4, d_ff=32, num_layers=2,
                        num_heads=4, relative_attention_num_buckets=8, feed_forward_proj="gated-gelu",
                        tie_word_embeddings=False, dropout_rate=0.0)
    return randomize(UMT5EncoderModel(config), std=0.3, seed_value=40).eval()


def transformer(image_dim, seed_value: int, in_channels: int = 36,
                out_channels: int = 16) -> WanTransformer3DModel:
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=in_channels,
        out_channels=out_channels, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, image_dim=image_dim,
        added_kv_proj_dim=24 if image_dim else None, rope_max_seq_len=32)
    randomize(model, std=0.15, seed_value=seed_value)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape))
    return model.eval()


def vae() -> AutoencoderKLWan:
    model = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                             temperal_downsample=[False, True, True])
    randomize(model, std=0.2, seed_value=42)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.copy_(1 + 0.2 * torch.randn(p.shape))
    # Non-trivial latent statistics so normalisation mistakes show.
    model.register_to_config(latents_mean=[0.1 * i - 0.8 for i in range(16)],
                             latents_std=[0.5 + 0.1 * i for i in range(16)])
    return model.eval()


def scheduler(flow_shift: float = 3.0) -> UniPCMultistepScheduler:
    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                   flow_shift=flow_shift, num_train_timesteps=1000)


def image_encoder():
    """CLIP vision tower and its processor, for Wan 2.1."""
    clip = randomize(CLIPVisionModel(CLIPVisionConfig(
        image_size=32, patch_size=8, num_hidden_layers=2, hidden_size=20, num_attention_heads=4,
        intermediate_size=32, hidden_act="gelu")), std=0.2, seed_value=41).eval()
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return clip, processor


def i2v_pipeline(tok, te) -> WanImageToVideoPipeline:
    clip, processor = image_encoder()
    return WanImageToVideoPipeline(tokenizer=tok, text_encoder=te, image_encoder=clip,
                                   image_processor=processor, transformer=transformer(20, 11),
                                   vae=vae(), scheduler=scheduler())


def a14b_pipeline(tok, te) -> WanImageToVideoPipeline:
    return WanImageToVideoPipeline(tokenizer=tok, text_encoder=te, image_encoder=None,
                                   image_processor=None, transformer=transformer(None, 12),
                                   transformer_2=transformer(None, 13), vae=vae(),
                                   scheduler=scheduler(), boundary_ratio=0.9)


def save_spiece(source: Path, pipeline: Path) -> None:
    """transformers 5 saves only tokenizer.json; the Wan repos also ship spiece.model, which is what
    the C++ tokenizer reads."""
    shutil.copy(source / "spiece.model", pipeline / "tokenizer" / "spiece.model")


def run_all(pipe, out: Path, name: str, image, settings: dict) -> None:
    gen = torch.Generator().manual_seed(7)
    latents = torch.randn(1, 16, 2, SIZE // 8, SIZE // 8, generator=gen)
    args = dict(image=image, prompt=settings["prompt"], negative_prompt=settings["negative_prompt"],
                height=SIZE, width=SIZE, num_frames=FRAMES, num_inference_steps=settings["steps"],
                guidance_scale=settings["guidance_scale"], max_sequence_length=MAX_SEQ)
    if settings.get("guidance_scale_2") is not None:
        args["guidance_scale_2"] = settings["guidance_scale_2"]
    with torch.no_grad():
        video = pipe(**args, latents=latents.clone(), output_type="pt").frames
        final = pipe(**args, latents=latents.clone(), output_type="latent").frames
        seeded = pipe(**args, generator=torch.Generator().manual_seed(settings["seed"]),
                      output_type="latent").frames
    save_tensors(out / f"{name}.safetensors",
                 {"image": torch.from_numpy(np.asarray(image).copy()), "latents": latents,
                  "video": video, "final_latents": final, "seeded_final_latents": seeded})
    save_json(out / f"{name}.json", settings)


def generate(out: Path) -> None:
    seed(0)
    folder_tok = out / "tokenizer_src"
    tok = tokenizer(folder_tok)
    te = text_encoder(len(tok))  # the spm pieces plus the <extra_id_*> tokens T5Tokenizer adds
    gen = torch.Generator().manual_seed(5)
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 5, 5, generator=gen),
                                             size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    pixels = (smooth[0].permute(1, 2, 0) * 255).round().to(torch.uint8)
    image = PIL.Image.fromarray(pixels.numpy())
    settings = {"prompt": "A cat sits on the warm windowsill and watches the rain.",
                "negative_prompt": "blurry, static", "height": SIZE, "width": SIZE,
                "num_frames": FRAMES, "steps": 2, "guidance_scale": 5.0,
                "guidance_scale_2": None, "max_sequence_length": MAX_SEQ, "seed": 1234}

    pipe = i2v_pipeline(tok, te)
    pipe.save_pretrained(out / "pipeline", safe_serialization=True)
    save_spiece(folder_tok, out / "pipeline")
    run_all(pipe, out, "pipeline_io", image, settings)

    a14b = a14b_pipeline(tok, te)
    a14b.save_pretrained(out / "pipeline_a14b", safe_serialization=True)
    save_spiece(folder_tok, out / "pipeline_a14b")
    shutil.rmtree(folder_tok)
    # With 2 steps and flow_shift 3 the timesteps are 999 and 750: one step per expert at 0.9.
    run_all(a14b, out, "pipeline_a14b_io", image,
            {**settings, "guidance_scale": 4.0, "guidance_scale_2": 3.0})
