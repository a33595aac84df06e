#pragma once

// Classifier-free guidance as the diffusers video pipelines combine the two model outputs.

#include <ATen/ATen.h>

#include <cstdint>

namespace vmeval::sched {

/// uncond + scale * (cond - uncond).
at::Tensor guide(const at::Tensor& uncond, const at::Tensor& cond, double scale);
/// The same with a broadcast scale tensor (e.g. frame_guidance_scales()).
at::Tensor guide(const at::Tensor& uncond, const at::Tensor& cond, const at::Tensor& scale);

/// Stable Video Diffusion's per-frame scale: linspace(min, max, frames) in float32, cast to
/// `dtype`, repeated per batch and shaped [batch, frames, 1, ...] to `latent_rank` dims (5 for
/// [B,F,C,H,W]).
at::Tensor frame_guidance_scales(double min_scale, double max_scale, int64_t batch, int64_t frames,
                                 int64_t latent_rank, at::ScalarType dtype,
                                 const at::Device& device);

/// diffusers rescale_noise_cfg (Lin et al. 2023, 3.4): matches the guided output's per-sample
/// std to the conditional one's, mixed in by `rescale` (0 leaves `guided` unchanged).
at::Tensor rescale_guidance(const at::Tensor& guided, const at::Tensor& cond, double rescale);

/// CogVideoX's use_dynamic_cfg scale at train timestep `timestep` of a `steps`-step run:
/// 1 + scale * (1 - cos(pi * ((steps - timestep) / steps)^5)) / 2.
double cogvideox_dynamic_scale(double scale, int steps, double timestep);

}  // namespace vmeval::sched
