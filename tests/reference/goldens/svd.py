"""Stable Video Diffusion goldens: a tiny random-weight StableVideoDiffusionPipeline saved as a real
diffusers folder (svd/pipeline/), one UNet forward, VAE encode (mode) and decode (whole and in
chunks), the image-encoder embeddings of the pipeline's own CLIP preprocessing, and two 2-step
pipeline runs: one from explicit initial latents with the per-step latents, one from a seeded
generator only (what `vmeval generate --model svd --seed S` must reproduce on the CPU)."""
import copy
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from diffusers import (
    AutoencoderKLTemporalDecoder,
    EulerDiscreteScheduler,
    StableVideoDiffusionPipeline,
    UNetSpatioTemporalConditionModel,
)
from diffusers.video_processor import VideoProcessor
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

from ._common import randomize, save_json, save_tensors, seed, single_threaded

# Small enough for the whole run to take seconds; 3 frames with decode chunks of 2 so the chunked
# decode differs from the whole one (time_conv_out mixes neighbouring frames).
HEIGHT, WIDTH, FRAMES, STEPS, CHUNK = 32, 48, 3, 2, 2
FPS, MOTION, NOISE_AUG, MIN_G, MAX_G = 7, 127, 0.02, 1.0, 3.0
RUN_SEED = 1234


def perturb(module: torch.nn.Module, seed_value: int) -> None:
    """Default init leaves norms at (1, 0) and the blend factors at their constants, which would hide
    a swapped or missing affine or mix term: move them off those values."""
    gen = torch.Generator().manual_seed(seed_value)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("mix_factor"):
                p.copy_(noise)
            elif "norm" in name and name.endswith("weight") and p.dim() == 1:
                p.copy_(1 + 0.2 * noise)
            elif "norm" in name and name.endswith("bias"):
                p.copy_(0.2 * noise)


def components():
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=16,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=(2, 4),
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
        num_frames=FRAMES,
    )
    perturb(unet, 1)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    perturb(vae, 2)
    # 224 px like the real encoder: the pipeline resizes every image to 224 before CLIP.
    clip = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224,
        intermediate_size=37, patch_size=32, hidden_act="gelu"))
    randomize(clip, std=0.2, seed_value=3)
    # The real SVD scheduler config (stabilityai/stable-video-diffusion-img2vid-xt).
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
        steps_offset=1, timestep_spacing="leading", timestep_type="continuous", trained_betas=None,
        use_karras_sigmas=True)
    return unet.eval(), vae.eval(), clip.eval(), scheduler, CLIPImageProcessor(crop_size=224, size=224)


def input_image(gen: torch.Generator) -> np.ndarray:
    """A smooth RGB image at the model resolution (so the pipeline's PIL resize is the identity)."""
    coarse = torch.rand(1, 3, 4, 6, generator=gen)
    smooth = torch.nn.functional.interpolate(coarse, size=(HEIGHT, WIDTH), mode="bilinear", align_corners=False)
    return (smooth[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


def unet_goldens(out: Path, unet, gen) -> None:
    sample = torch.randn(2, FRAMES, 8, HEIGHT // 2, WIDTH // 2, generator=gen)
    timestep = torch.tensor(0.25 * np.log(30.0), dtype=torch.float32)
    context = torch.randn(2, 1, 32, generator=gen)
    added = torch.tensor([[FPS - 1, MOTION, NOISE_AUG]] * 2, dtype=torch.float32)
    with torch.no_grad():
        result = unet(sample, timestep, encoder_hidden_states=context, added_time_ids=added).sample
    save_tensors(out / "unet_io.safetensors", {"sample": sample, "timestep": timestep, "encoder_hidden_states": context,
                                               "added_time_ids": added, "out": result})


def vae_goldens(out: Path, vae, gen) -> None:
    image = torch.rand(2, 3, HEIGHT, WIDTH, generator=gen) * 2 - 1
    latents = torch.randn(FRAMES, 4, HEIGHT // 2, WIDTH // 2, generator=gen)
    with torch.no_grad():
        mode = vae.encode(image).latent_dist.mode()
        whole = vae.decode(latents, num_frames=FRAMES).sample
        chunks = [vae.decode(latents[i:i + CHUNK], num_frames=latents[i:i + CHUNK].shape[0]).sample
                  for i in range(0, FRAMES, CHUNK)]
    save_tensors(out / "vae_io.safetensors", {"image": image, "mode": mode, "latents": latents, "decoded": whole,
                                              "decoded_chunked": torch.cat(chunks)})


def resize_goldens(out: Path, pixels: np.ndarray, gen) -> None:
    """PIL's Lanczos resize (the VAE input when the question image has another size) down and up,
    and diffusers' antialiased resize to 224 (the CLIP input) down and up."""
    from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import _resize_with_antialiasing

    image = PIL.Image.fromarray(pixels)
    tensors = {"image": torch.from_numpy(pixels)}
    processor = VideoProcessor(do_resize=True, vae_scale_factor=2)
    for h, w in ((20, 27), (45, 70)):
        # What VideoProcessor.preprocess does to a PIL image before scaling to [-1, 1].
        resized = processor.resize(image, h, w)
        assert resized.tobytes() == image.resize((w, h), resample=PIL.Image.LANCZOS).tobytes()
        tensors[f"pil_{h}x{w}"] = torch.from_numpy(np.asarray(resized).copy())
    for name, shape in (("down", (1, 3, 500, 300)), ("up", (1, 3, 40, 64))):
        x = torch.rand(*shape, generator=gen) * 2 - 1
        tensors[f"aa_{name}_in"] = x
        tensors[f"aa_{name}_out"] = _resize_with_antialiasing(x, (224, 224))
    save_tensors(out / "resize.safetensors", tensors)


def run(pipe, image, generator_seed: int, latents=None):
    steps = []

    def keep(_pipe, _i, _t, kwargs):
        steps.append(kwargs["latents"].clone())
        return {}

    with torch.no_grad():
        frames = pipe(image, height=HEIGHT, width=WIDTH, num_frames=FRAMES, num_inference_steps=STEPS,
                      min_guidance_scale=MIN_G, max_guidance_scale=MAX_G, fps=FPS, motion_bucket_id=MOTION,
                      noise_aug_strength=NOISE_AUG, decode_chunk_size=CHUNK, latents=latents,
                      generator=torch.Generator().manual_seed(generator_seed), output_type="pt",
                      callback_on_step_end=keep, callback_on_step_end_tensor_inputs=["latents"]).frames
    return frames, steps


def generate(out: Path) -> None:
    single_threaded(write_all, out)


def write_all(out: Path) -> None:
    seed(0)
    unet, vae, clip, scheduler, processor = components()
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=clip, unet=unet, scheduler=scheduler,
                                        feature_extractor=processor)
    pipe.set_progress_bar_config(disable=True)
    pipe.save_pretrained(out / "pipeline", safe_serialization=True)

    # Only ".fp16." files, as the half-precision downloads of the real repository hold.
    copy.deepcopy(vae).to(torch.float16).save_pretrained(out / "vae_fp16", safe_serialization=True, variant="fp16")

    gen = torch.Generator().manual_seed(5)
    unet_goldens(out, unet, gen)
    vae_goldens(out, vae, gen)

    pixels = input_image(gen)
    PIL.Image.fromarray(pixels).save(out / "image.png")
    image = PIL.Image.open(out / "image.png").convert("RGB")
    resize_goldens(out, pixels, gen)
    with torch.no_grad():
        embeds = pipe._encode_image(image, "cpu", 1, False)
    save_tensors(out / "image_encoder_io.safetensors", {"image": torch.from_numpy(pixels), "image_embeds": embeds})

    initial = torch.randn(1, FRAMES, 4, HEIGHT // 2, WIDTH // 2, generator=gen)
    frames, steps = run(pipe, image, RUN_SEED, latents=initial)
    tensors = {"latents": initial, "frames": frames}
    for i, s in enumerate(steps):
        tensors[f"step.{i}"] = s
    save_tensors(out / "pipeline_latents.safetensors", tensors)

    frames, _ = run(pipe, image, RUN_SEED)
    frames8 = (frames * 255).round().to(torch.uint8)
    save_tensors(out / "pipeline_seeded.safetensors", {"frames": frames, "frames_u8": frames8})
    save_json(out / "run.json", {"height": HEIGHT, "width": WIDTH, "frames": FRAMES, "steps": STEPS,
                                 "decode_chunk_size": CHUNK, "fps": FPS, "motion_bucket_id": MOTION,
                                 "noise_aug_strength": NOISE_AUG, "min_guidance": MIN_G, "max_guidance": MAX_G,
                                 "seed": RUN_SEED})
