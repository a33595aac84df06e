#pragma once

// The `svd` catalog model: Stable Video Diffusion XT run natively on LibTorch.

#include <memory>
#include <string>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::svd {

/// Loads the pipeline once (the Hugging Face cache snapshot of
/// stabilityai/stable-video-diffusion-img2vid-xt, or `--param weights=DIR`) and reads the params:
/// width, height, frames, steps, fps, motion_bucket_id, noise_aug_strength, min_guidance,
/// max_guidance, decode_chunk_size, device, precision, offload (0/1), weights. Unknown keys throw
/// Error(Usage); a missing model throws Error(ModelUnavailable) with the files to fetch.
std::unique_ptr<ModelWrapper> make_svd(const registry::ModelInfo& model, const Params& params);
/// What make_svd would find missing among the weight files, without loading anything; empty when
/// the folder is complete.
std::string weights_problem(const registry::ModelInfo& model, const Params& params);

}  // namespace vmeval::svd
