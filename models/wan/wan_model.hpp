#pragma once

// The five Wan catalog models as presets over one pipeline (pipeline.hpp):
//   wan-2.1-i2v-480p / wan-2.1-i2v-720p   Wan 2.1 I2V 14B with the CLIP image branch
//   wan-2.2-i2v-a14b                      two 14B experts switched at boundary_ratio
//   wan-2.2-ti2v-5b                       expand_timesteps with the Wan 2.2 VAE
//   morphic-frames-to-video               wan-2.2-i2v-a14b + Morphic's LoRA on the high-noise
//                                         expert, first and last frame
// A preset only names the repository and the inputs it needs; what differs in the math follows the
// pipeline folder's own model_index.json and configs.

#include <memory>
#include <string>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::wan {

/// Loads the pipeline once (the Hugging Face cache snapshot of the model's repository, or
/// `--param weights=DIR`) and reads the params: width, height (an area budget: the video keeps
/// the input's aspect ratio), frames, steps, fps, guidance, guidance_2 (two experts),
/// negative_prompt, flow_shift, offload (0/1), device, precision, weights; Morphic also lora
/// (the .safetensors file) and lora_alpha. Unknown keys throw Error(Usage); missing weights throw
/// Error(ModelUnavailable) with the files to fetch.
std::unique_ptr<ModelWrapper> make_wan(const registry::ModelInfo& model, const Params& params);
/// What make_wan would find missing among the weight files, without loading anything; empty when
/// everything is there.
std::string weights_problem(const registry::ModelInfo& model, const Params& params);

/// Wan's default negative prompt (its shared config's sample_neg_prompt), which the reference
/// pipelines' model cards pass.
extern const char* const kDefaultNegativePrompt;

/// The model cards' sizing: keep the image's aspect ratio within `area` pixels, each side rounded
/// to the nearest pixel and floored to `multiple`. Throws Error(InvalidQuestion) when a side would
/// be below `multiple`.
std::pair<int64_t, int64_t> area_size(int64_t image_width, int64_t image_height, int64_t area,
                                      int64_t multiple);

}  // namespace vmeval::wan
