#pragma once

// diffusers WanImageToVideoPipeline on LibTorch: Wan 2.1 I2V (umT5 prompt, CLIP image tokens,
// first-frame conditioning video) and Wan 2.2 A14B (two experts switched at boundary_ratio, no
// image encoder). The steps and their order follow pipeline_wan_i2v.py so that, from the same
// initial latents, the result equals the reference's. Wan 2.2 TI2V-5B (expand_timesteps) is not
// handled here.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "models/torch/encoders/clip_image_processor.hpp"
#include "models/torch/encoders/clip_vision.hpp"
#include "models/torch/encoders/t5_encoder.hpp"
#include "models/torch/runtime/device.hpp"
#include "models/torch/schedulers/scheduler.hpp"
#include "models/torch/tokenizers/sentencepiece_tokenizer.hpp"
#include "models/wan/transformer.hpp"
#include "models/wan/vae.hpp"

namespace vmeval::wan {

struct I2VSettings {
    int64_t height = 480;
    int64_t width = 832;
    int64_t num_frames = 81;  ///< rounded down to 4k + 1 as the reference does
    int steps = 50;
    double guidance_scale = 5.0;             ///< CFG when > 1
    std::optional<double> guidance_scale_2;  ///< low-noise expert; absent = guidance_scale
    int64_t max_sequence_length = 512;
};

struct I2VResult {
    at::Tensor latents;  ///< the denoised latents (normalised, as output_type="latent")
    at::Tensor
        video;  ///< [B, F, 3, H, W] float in [0, 1] (output_type="pt"); undefined if not decoded
};

class I2VPipeline {
public:
    /// Reads a diffusers WanImageToVideoPipeline folder (model_index.json and its components).
    /// The text encoder and transformers run in placement.dtype; the VAE and the image encoder
    /// stay fp32, as the Wan model cards load them.
    static std::unique_ptr<I2VPipeline> load(const std::filesystem::path& dir,
                                             const nn::Placement& placement);

    /// image: [H, W, 3] uint8 RGB, already height x width (the reference's VideoProcessor would
    /// resize it; this throws instead). Initial noise: `latents` [1, z, T, h, w] when given, else
    /// drawn from a CPU generator seeded with `seed` as torch.randn(generator=...) draws it.
    I2VResult run(const at::Tensor& image, const std::string& prompt,
                  const std::string& negative_prompt, const I2VSettings& settings,
                  const std::optional<at::Tensor>& latents = std::nullopt,
                  std::optional<uint64_t> seed = std::nullopt, bool decode = true) const;

    /// umT5 embeddings [1, max_length, d]: padded to max_length, zero past the prompt's tokens.
    at::Tensor encode_prompt(const std::string& prompt, int64_t max_length) const;
    /// The CLIP penultimate hidden state [1, tokens, width] of `image` ([H, W, 3] uint8).
    at::Tensor encode_image(const at::Tensor& image) const;
    /// [1, 4 + z, T, h, w]: the first-frame mask channels, then the normalised VAE latents of
    /// the first frame followed by zero frames.
    at::Tensor condition(const at::Tensor& image, int64_t num_frames) const;

    bool has_image_encoder() const { return image_encoder_ != nullptr; }
    bool has_second_expert() const { return transformer_2_ != nullptr; }
    std::optional<double> boundary_ratio() const { return boundary_ratio_; }

private:
    I2VPipeline() = default;

    nn::Placement placement_;
    std::unique_ptr<tokenizers::SentencePieceTokenizer> tokenizer_;
    std::unique_ptr<enc::T5Encoder> text_encoder_;
    std::unique_ptr<enc::CLIPVisionEncoder> image_encoder_;
    enc::CLIPImageProcessorConfig image_processor_;
    std::unique_ptr<Transformer> transformer_;
    std::unique_ptr<Transformer> transformer_2_;
    std::unique_ptr<VAE> vae_;
    std::filesystem::path scheduler_config_;
    std::optional<double> boundary_ratio_;
};

/// prompt_clean without ftfy (it only repairs mis-decoded text) and without html.unescape (not
/// done yet: prompts with HTML entities differ from the reference): whitespace runs collapsed to
/// one space, ends trimmed.
std::string clean_prompt(const std::string& text);

}  // namespace vmeval::wan
