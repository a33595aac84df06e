"""Scheduler and guidance goldens: each case is a scheduler_config.json (the published configs of
the families we run, written the way the hub holds them, plus configs that reach other branches),
loaded with the real diffusers class and run for a few steps with a fake model whose output depends
on the input and the timestep. The C++ side parses the same file and replays the whole trajectory.

Fake model (the C++ test defines it the same way):
    model_output = 0.3 * model_input + (0.1 * cos(float(t))) * pattern
"""
import math
from pathlib import Path

import numpy as np
import torch
from diffusers import (
    CogVideoXDPMScheduler,
    DDIMScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    UniPCMultistepScheduler,
)
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

from ._common import save_json, save_tensors, seed

SHAPE = (1, 4, 2, 4, 4)  # [B, C, F, H, W]

def flow(**kw):
    return {"_class_name": "FlowMatchEulerDiscreteScheduler", **kw}


def euler(**kw):
    return {"_class_name": "EulerDiscreteScheduler", **kw}


def unipc(**kw):
    return {"_class_name": "UniPCMultistepScheduler", **kw}


def ddim(**kw):
    return {"_class_name": "DDIMScheduler", **kw}


def cogdpm(**kw):
    return {"_class_name": "CogVideoXDPMScheduler", **kw}


SCALED_LINEAR = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}

# Published scheduler_config.json files (stabilityai/stable-video-diffusion-img2vid-xt,
# Wan-AI/Wan2.1-I2V-14B-480P-Diffusers, THUDM/CogVideoX-5b-I2V, Lightricks/LTX-Video), legacy keys
# included: the C++ parser must ignore what the class ignores.
SVD = euler(
    _diffusers_version="0.24.0.dev0", clip_sample=False, interpolation_type="linear",
    num_train_timesteps=1000, prediction_type="v_prediction", set_alpha_to_one=False,
    sigma_max=700.0, sigma_min=0.002, skip_prk_steps=True, steps_offset=1,
    timestep_spacing="leading", timestep_type="continuous", trained_betas=None,
    use_karras_sigmas=True, **SCALED_LINEAR,
)
WAN = unipc(
    _diffusers_version="0.33.0.dev0", beta_end=0.02, beta_schedule="linear", beta_start=0.0001,
    disable_corrector=[], dynamic_thresholding_ratio=0.995, final_sigmas_type="zero",
    flow_shift=3.0, lower_order_final=True, num_train_timesteps=1000, predict_x0=True,
    prediction_type="flow_prediction", rescale_betas_zero_snr=False, sample_max_value=1.0,
    solver_order=2, solver_p=None, solver_type="bh2", steps_offset=0, thresholding=False,
    timestep_spacing="linspace", trained_betas=None, use_beta_sigmas=False,
    use_exponential_sigmas=False, use_flow_sigmas=True, use_karras_sigmas=False,
)
COGVIDEOX_5B_I2V = cogdpm(
    _diffusers_version="0.31.0.dev0", clip_sample=False, clip_sample_range=1.0,
    num_train_timesteps=1000, prediction_type="v_prediction", rescale_betas_zero_snr=True,
    sample_max_value=1.0, set_alpha_to_one=True, snr_shift_scale=1.0, steps_offset=0,
    timestep_spacing="trailing", trained_betas=None, **SCALED_LINEAR,
)
LTX = flow(
    _diffusers_version="0.32.0.dev0", base_image_seq_len=1024, base_shift=0.95,
    invert_sigmas=False, max_image_seq_len=4096, max_shift=2.05, num_train_timesteps=1000,
    shift=1.0, shift_terminal=0.1, use_beta_sigmas=False, use_dynamic_shifting=True,
    use_exponential_sigmas=False, use_karras_sigmas=False,
)
LTX2_DISTILLED_SIGMAS = [1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875]
ZERO_SNR_VPRED = {"prediction_type": "v_prediction", "rescale_betas_zero_snr": True,
                  "timestep_spacing": "trailing", "clip_sample": False}

CLASSES = {c.__name__: c for c in (CogVideoXDPMScheduler, DDIMScheduler, EulerDiscreteScheduler,
                                   FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler)}

# name, config, set_timesteps arguments (steps / mu / sigmas), step-noise seed, bf16 model output
CASES = [
    ("flow_static_shift7", flow(shift=7.0), {"steps": 10}),
    ("flow_ltx_dynamic", LTX, {"steps": 10, "mu": 1.6}),
    ("flow_linear_shift",
     flow(use_dynamic_shifting=True, time_shift_type="linear", shift_terminal=0.05),
     {"steps": 4, "mu": 0.8}),
    ("flow_custom_sigmas", flow(shift=3.0), {"sigmas": LTX2_DISTILLED_SIGMAS}),
    ("flow_ltx_custom_sigmas", LTX, {"sigmas": LTX2_DISTILLED_SIGMAS, "mu": 2.05}),
    ("flow_karras", flow(shift=3.0, use_karras_sigmas=True), {"steps": 10}),
    ("flow_exponential", flow(shift=5.0, use_exponential_sigmas=True), {"steps": 4}),
    ("euler_svd_25", SVD, {"steps": 25}),
    ("euler_svd_4", SVD, {"steps": 4}),
    ("euler_default", euler(), {"steps": 10}),
    ("euler_leading_karras_eps",
     euler(timestep_spacing="leading", steps_offset=1, use_karras_sigmas=True,
           final_sigmas_type="sigma_min", **SCALED_LINEAR),
     {"steps": 10}),
    ("euler_trailing_vpred_zsnr",
     euler(prediction_type="v_prediction", timestep_spacing="trailing",
           rescale_betas_zero_snr=True, beta_schedule="squaredcos_cap_v2"),
     {"steps": 10}),
    ("euler_exponential_continuous",
     euler(use_exponential_sigmas=True, prediction_type="v_prediction",
           timestep_type="continuous", sigma_min=0.002, sigma_max=80.0),
     {"steps": 6}),
    ("unipc_wan21_shift3", WAN, {"steps": 10}),
    ("unipc_wan22_shift5", {**WAN, "flow_shift": 5.0}, {"steps": 25}),
    ("unipc_default", unipc(), {"steps": 10}),
    # bh1 with a zero final sigma gives -inf * 0 = NaN upstream, hence sigma_min
    ("unipc_order3_bh1_vpred",
     unipc(solver_order=3, solver_type="bh1", prediction_type="v_prediction",
           timestep_spacing="trailing", disable_corrector=[2], final_sigmas_type="sigma_min",
           **SCALED_LINEAR),
     {"steps": 8}),
    ("unipc_karras_noise_pred",
     unipc(use_karras_sigmas=True, predict_x0=False, lower_order_final=False,
           timestep_spacing="leading", steps_offset=1, final_sigmas_type="sigma_min"),
     {"steps": 6}),
    ("ddim_default", ddim(), {"steps": 10}),
    ("ddim_zero_snr_trailing", ddim(set_alpha_to_one=True, **ZERO_SNR_VPRED, **SCALED_LINEAR),
     {"steps": 10}),
    ("ddim_linspace_no_alpha_one",
     ddim(timestep_spacing="linspace", set_alpha_to_one=False, clip_sample_range=0.5,
          thresholding=True, sample_max_value=1.5),
     {"steps": 7}),
    ("cogvideox_5b_i2v_10", COGVIDEOX_5B_I2V, {"steps": 10, "generator": 7}),
    ("cogvideox_5b_i2v_4", COGVIDEOX_5B_I2V, {"steps": 4, "generator": 11}),
    ("cogvideox_2b_leading", cogdpm(prediction_type="epsilon", beta_schedule="linear"),
     {"steps": 6, "generator": 3}),
    # the sigma grids the pipelines pass: LTX linspace(1, 1/n, n) with mu, HunyuanVideo
    # linspace(1, 0, n + 1)[:-1] with its static shift
    ("flow_ltx_pipeline_sigmas", LTX, {"sigmas": [float(v) for v in np.linspace(1.0, 1 / 30, 30)],
                                       "mu": 1.3}),
    ("flow_hunyuan_pipeline_sigmas", flow(shift=7.0),
     {"sigmas": [float(v) for v in np.linspace(1.0, 0.0, 11)[:-1]]}),
    ("flow_inverted", flow(shift=2.0, invert_sigmas=True), {"steps": 4}),
    ("euler_log_linear", euler(interpolation_type="log_linear"), {"steps": 6}),
    ("unipc_flow_dynamic_terminal",
     unipc(use_flow_sigmas=True, prediction_type="flow_prediction", use_dynamic_shifting=True,
           shift_terminal=0.1),
     {"steps": 6, "mu": 1.0}),
    ("unipc_flow_karras", unipc(use_flow_sigmas=True, use_karras_sigmas=True,
                                prediction_type="flow_prediction"), {"steps": 6}),
    ("unipc_exponential_sample", unipc(use_exponential_sigmas=True, prediction_type="sample"),
     {"steps": 6}),
    ("ddim_sample_prediction", ddim(prediction_type="sample", clip_sample=False), {"steps": 5}),
    # bf16 model outputs against float32 latents, as the pipelines run: where each class casts
    ("flow_ltx_dynamic_bf16", LTX, {"steps": 4, "mu": 1.6, "bf16": True}),
    ("euler_svd_bf16", SVD, {"steps": 4, "bf16": True}),
    ("unipc_wan21_bf16", WAN, {"steps": 6, "bf16": True}),
    ("ddim_zero_snr_trailing_bf16", ddim(**ZERO_SNR_VPRED), {"steps": 4, "bf16": True}),
    ("cogvideox_5b_i2v_bf16", COGVIDEOX_5B_I2V, {"steps": 4, "generator": 5, "bf16": True}),
]


def fake_model(model_input: torch.Tensor, t, pattern: torch.Tensor) -> torch.Tensor:
    return 0.3 * model_input + (0.1 * math.cos(float(t))) * pattern


def run_case(out: Path, name: str, config: dict, args: dict) -> dict:
    folder = out / name
    folder.mkdir()
    save_json(folder / "scheduler_config.json", config)
    sched = CLASSES[config["_class_name"]].from_config(config)
    kwargs = {"device": "cpu"}
    if "mu" in args:
        kwargs["mu"] = args["mu"]
    if "sigmas" in args:
        sched.set_timesteps(sigmas=args["sigmas"], **kwargs)
    else:
        sched.set_timesteps(args["steps"], **kwargs)

    gen = torch.Generator().manual_seed(len(name))
    noise = torch.randn(SHAPE, generator=gen)
    pattern = torch.randn(SHAPE, generator=gen)
    clean = torch.randn(SHAPE, generator=gen)
    timesteps = sched.timesteps
    tensors = {"noise": noise, "pattern": pattern, "clean": clean, "timesteps": timesteps}
    if isinstance(sched, (FlowMatchEulerDiscreteScheduler, EulerDiscreteScheduler,
                          UniPCMultistepScheduler)):
        tensors["sigmas"] = sched.sigmas

    # add_noise / scale_noise at the middle step, as img2img-style starts use it
    mid = len(timesteps) // 2
    t_mid = timesteps[mid:mid + 1]
    if isinstance(sched, FlowMatchEulerDiscreteScheduler):
        tensors["noised"] = sched.scale_noise(clean, t_mid, noise)
    else:
        tensors["noised"] = sched.add_noise(clean, noise, t_mid)

    # FlowMatch has no init_noise_sigma nor scale_model_input: its pipelines use latents as they are
    init_sigma = getattr(sched, "init_noise_sigma", 1.0)
    latents = noise * init_sigma
    tensors["latents_init"] = latents
    step_gen = torch.Generator().manual_seed(args["generator"]) if "generator" in args else None
    old_pred = None
    for i, t in enumerate(timesteps):
        scaled = hasattr(sched, "scale_model_input")
        model_input = sched.scale_model_input(latents, t) if scaled else latents
        if model_input is not latents:  # identity scalings are not stored twice
            tensors[f"input_{i}"] = model_input
        model_output = fake_model(model_input, t, pattern)
        if args.get("bf16"):
            model_output = model_output.to(torch.bfloat16)
        if isinstance(sched, CogVideoXDPMScheduler):
            t_back = timesteps[i - 1] if i > 0 else None
            latents, old_pred = sched.step(model_output, old_pred, t, t_back, latents,
                                           generator=step_gen, return_dict=False)
            tensors[f"pred_original_{i}"] = old_pred
        else:
            latents = sched.step(model_output, t, latents, return_dict=False)[0]
        tensors[f"sample_{i}"] = latents
    save_tensors(folder / "trajectory.safetensors", tensors)
    return {"name": name, "steps": len(timesteps), "mid": mid,
            "init_noise_sigma": float(init_sigma), "dtype": str(latents.dtype),
            "set_steps": args.get("steps"),
            **{k: v for k, v in args.items() if k != "steps"}}


def guidance(out: Path) -> None:
    gen = torch.Generator().manual_seed(5)
    b, f, c, h, w = 2, 5, 3, 2, 2
    cond = torch.randn(b, f, c, h, w, generator=gen)
    uncond = torch.randn(b, f, c, h, w, generator=gen)
    tensors = {"cond": cond, "uncond": uncond}
    # classic CFG, as every pipeline here writes it: uncond + s * (cond - uncond)
    tensors["cfg_5"] = uncond + 5.0 * (cond - uncond)
    # SVD: pipelines/stable_video_diffusion/pipeline_stable_video_diffusion.py builds a per-frame
    # ramp with torch.linspace(min, max, num_frames), repeats it per batch and appends dims to the
    # latents' rank
    scale = torch.linspace(1.0, 3.0, f).unsqueeze(0).to("cpu", cond.dtype).repeat(b, 1)
    scale = scale[(...,) + (None,) * 3]
    tensors["svd_scale"] = scale
    tensors["svd_cfg"] = uncond + scale * (cond - uncond)
    # guidance_rescale: pipelines/stable_diffusion/pipeline_stable_diffusion.py rescale_noise_cfg
    tensors["rescaled_0_7"] = rescale_noise_cfg(tensors["cfg_5"], cond, guidance_rescale=0.7)
    # CogVideoX dynamic CFG: pipelines/cogvideo/pipeline_cogvideox_image2video.py, per step
    # 1 + s * (1 - cos(pi * ((n - t) / n) ** 5)) / 2 with t the integer timestep
    sched = CogVideoXDPMScheduler.from_config(COGVIDEOX_5B_I2V)
    sched.set_timesteps(50)
    n = 50
    dyn = [1 + 6.0 * ((1 - math.cos(math.pi * ((n - t.item()) / n) ** 5.0)) / 2)
           for t in sched.timesteps]
    tensors["cog_dynamic_6"] = torch.tensor(dyn, dtype=torch.float64)
    tensors["cog_timesteps"] = sched.timesteps
    # pipelines/ltx/pipeline_ltx.py calculate_shift with the LTX config, for 2000 video tokens
    from diffusers.pipelines.ltx.pipeline_ltx import calculate_shift

    mu = calculate_shift(2000, LTX["base_image_seq_len"], LTX["max_image_seq_len"],
                         LTX["base_shift"], LTX["max_shift"])
    tensors["ltx_mu_2000"] = torch.tensor([mu], dtype=torch.float64)
    save_tensors(out / "guidance.safetensors", tensors)


def per_token(out: Path) -> None:
    """LTXConditionPipeline's loop (pipelines/ltx/pipeline_ltx_condition.py): conditioned tokens get
    timestep min(t, (1 - mask) * 1000), the scheduler steps each token from its own sigma with the
    negated prediction, and tokens whose sigma is already below t keep their latents."""
    sched = FlowMatchEulerDiscreteScheduler.from_config(LTX)
    sched.set_timesteps(6, mu=1.2)
    gen = torch.Generator().manual_seed(9)
    latents = torch.randn(2, 8, 4, generator=gen)
    pattern = torch.randn(2, 8, 4, generator=gen)
    mask = torch.tensor([[1.0, 0.6, 0.25, 0, 0, 0, 0, 0]]).repeat(2, 1)
    tensors = {"latents_init": latents, "pattern": pattern, "mask": mask,
               "timesteps": sched.timesteps}
    for i, t in enumerate(sched.timesteps):
        timestep = t.expand(latents.shape[0]).unsqueeze(-1).float()
        timestep = torch.min(timestep, (1 - mask) * 1000.0)
        noise_pred = fake_model(latents, t, pattern)
        denoised = sched.step(-noise_pred, t, latents, per_token_timesteps=timestep,
                              return_dict=False)[0]
        keep = (t / 1000 - 1e-6 < (1.0 - mask)).unsqueeze(-1)
        latents = torch.where(keep, denoised, latents)
        tensors[f"timestep_{i}"] = timestep
        tensors[f"sample_{i}"] = latents
    save_tensors(out / "per_token.safetensors", tensors)


def generate(out: Path) -> None:
    seed(0)
    index = [run_case(out, name, config, args) for name, config, args in CASES]
    save_json(out / "cases.json", index)
    guidance(out)
    per_token(out)
