#pragma once

// LoRA adapters for the Wan transformer, merged into the weights once at load time: W += s B A.
// Merging costs one matmul per adapted matrix and leaves every denoising step as fast as the base
// model's, which is what a batch of thousands of videos wants.

#include <cstdint>
#include <filesystem>

namespace vmeval::wan {

class Transformer;

/// What merge_lora changed.
struct LoraMerge {
    int modules = 0;  ///< weight matrices changed
    int64_t rank = 0;
    double scale = 0;  ///< alpha / rank (the last module's, when the file gives per-module alphas)
};

/// Merges the LoRA in `file` (safetensors) into `model`. Keys name a module and end in
/// ".lora_A.weight"/".lora_B.weight" (or ".lora_down"/".lora_up"), in the original Wan names
/// Morphic publishes ("blocks.N.self_attn.q", "cross_attn.o", "cross_attn.k_img", "ffn.0"; an
/// optional "diffusion_model." prefix) or in diffusers' ("blocks.N.attn1.to_q"). The scale is
/// alpha / rank, alpha from the module's ".alpha" key when the file has one, else `alpha`
/// (Morphic's loader uses 16 with rank 32). The sum is formed in fp32 and stored in the weight's
/// dtype. Throws Error(Config) naming the file and every key it cannot place; changes nothing
/// unless every key is placed.
LoraMerge merge_lora(Transformer& model, const std::filesystem::path& file, double alpha);

}  // namespace vmeval::wan
