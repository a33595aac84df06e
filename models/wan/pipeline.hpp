#pragma once

// diffusers WanImageToVideoPipeline on LibTorch, one class for the three variants:
// - Wan 2.1 I2V: umT5 prompt, CLIP image tokens, a conditioning video (first frame, then zeros)
//   and its mask as extra input channels;
// - Wan 2.2 A14B: the same without CLIP, two experts switched at boundary_ratio (Morphic: a LoRA
//   merged into the high-noise expert, and the last frame conditioned too);
// - Wan 2.2 TI2V-5B (expand_timesteps): the first latent frame is the image's latent, held at
//   timestep 0 per token, with no extra channels.
// The steps and their order follow pipeline_wan_i2v.py so that, from the same initial latents, the
// result equals the reference's.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "models/torch/encoders/clip_image_processor.hpp"
#include "models/torch/encoders/clip_vision.hpp"
#include "models/torch/encoders/t5_encoder.hpp"
#include "models/torch/runtime/device.hpp"
#include "models/torch/schedulers/scheduler.hpp"
#include "models/torch/tokenizers/sentencepiece_tokenizer.hpp"
#include "models/wan/lora.hpp"
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

/// One video's inputs.
struct I2VRequest {
    at::Tensor image;                      ///< [H, W, 3] uint8 RGB, already the video size
    std::optional<at::Tensor> last_image;  ///< the same, for first+last frame conditioning
    std::string prompt;
    std::string negative_prompt;
    /// Initial noise [1, z, T, h, w]; when absent drawn from a CPU generator seeded with `seed`,
    /// as torch.randn(generator=torch.Generator().manual_seed(seed)) draws it.
    std::optional<at::Tensor> latents;
    uint64_t seed = 0;
    bool decode = true;
    /// Called before each denoising step (step, steps); may throw to stop the run.
    std::function<void(int, int)> on_step;
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
    /// With `offload` (on a GPU), components wait on the CPU and come to the device when they run:
    /// the encoders for the prompts and the image, and one expert at a time, which stays there
    /// until the other is needed (a single transformer moves once, A14B's experts swap twice per
    /// video).
    static std::unique_ptr<I2VPipeline> load(const std::filesystem::path& dir,
                                             const nn::Placement& placement, bool offload = false);

    /// Merges a LoRA (lora.hpp) into the high-noise expert, `transformer`, as diffusers'
    /// load_lora_weights does by default and Morphic does.
    LoraMerge merge_lora(const std::filesystem::path& file, double alpha);

    /// The image must already be the video size (the reference's VideoProcessor would resize it;
    /// this throws instead).
    I2VResult run(const I2VRequest& request, const I2VSettings& settings) const;

    /// The VAE's frames of normalised latents: [B, F, 3, H, W] in [0, 1] (output_type="pt").
    at::Tensor decode(const at::Tensor& latents) const;

    /// umT5 embeddings [1, max_length, d]: padded to max_length, zero past the prompt's tokens.
    at::Tensor encode_prompt(const std::string& prompt, int64_t max_length) const;
    /// The CLIP penultimate hidden state [1, tokens, width] of `image` ([H, W, 3] uint8).
    at::Tensor encode_image(const at::Tensor& image) const;
    /// [1, 4 + z, T, h, w]: the mask channels (1 on the given frames), then the normalised VAE
    /// latents of the first frame, zero frames and, when given, the last frame.
    at::Tensor condition(const at::Tensor& image, int64_t num_frames,
                         const std::optional<at::Tensor>& last_image = std::nullopt) const;

    bool has_image_encoder() const { return image_encoder_ != nullptr; }
    bool has_second_expert() const { return transformer_2_ != nullptr; }
    bool expand_timesteps() const { return expand_timesteps_; }
    std::optional<double> boundary_ratio() const { return boundary_ratio_; }
    /// Pixels per latent cell along height and width times the patch: sizes must be multiples.
    int64_t size_multiple() const;
    int64_t temporal_factor() const { return vae_->config().scale_factor_temporal; }

    /// flow_shift for the scheduler instead of scheduler_config.json's.
    void set_flow_shift(std::optional<double> shift) { flow_shift_ = shift; }

private:
    I2VPipeline() = default;

    /// Puts `model` on the device, first sending the expert there back to the CPU (offload only).
    void make_resident(Transformer* model) const;

    /// The normalised VAE latents of a [1, 3, F, H, W] video in [-1, 1].
    at::Tensor encode_video(const at::Tensor& video) const;
    at::Tensor pixels(const at::Tensor& image) const;

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
    std::optional<double> flow_shift_;
    bool expand_timesteps_ = false;
    bool offload_ = false;
    mutable Transformer* resident_ = nullptr;  ///< the expert on the device when offloading
};

}  // namespace vmeval::wan
