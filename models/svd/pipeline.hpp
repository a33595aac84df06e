#pragma once

// The arithmetic of diffusers' StableVideoDiffusionPipeline: CLIP image embedding of the input
// image, noise-augmented VAE latent of it, the added time ids (fps - 1, motion bucket, noise
// augmentation), classifier-free guidance against zero embeddings and zero image latents with a
// per-frame guidance ramp, the EDM Euler loop, and the chunked temporal decode.
//
// Random draws follow the reference with a CPU torch.Generator: first the noise-augmentation noise
// (the image's shape), then the initial latents, both drawn on the CPU in float32 and moved to the
// device, so a seed gives diffusers' frames on the CPU.

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "models/svd/unet.hpp"
#include "models/svd/vae.hpp"
#include "models/torch/encoders/clip_image_processor.hpp"
#include "models/torch/encoders/clip_vision.hpp"
#include "models/torch/runtime/device.hpp"
#include "models/torch/schedulers/scheduler.hpp"

namespace vmeval::svd {

/// One generation's settings (the `svd` model's params), with the reference's defaults.
struct Settings {
    int64_t width = 1024;
    int64_t height = 576;
    int64_t frames = 25;
    int steps = 25;
    double fps = 7;  ///< the clip's frame rate; the model is conditioned on fps - 1
    double motion_bucket_id = 127;
    double noise_aug_strength = 0.02;
    double min_guidance = 1.0;
    double max_guidance = 3.0;
    int64_t decode_chunk_size = 8;
};

/// What the denoiser is conditioned on (batch doubled, unconditional half first, when guided).
struct Conditioning {
    at::Tensor image_embeds;    ///< [B, 1, projection]
    at::Tensor image_latents;   ///< [B, F, latent, h, w]
    at::Tensor added_time_ids;  ///< [B, 3]
    bool guided = false;
};

/// Called after each denoising step with the step index and the new latents; may throw to stop.
using StepCallback = std::function<void(int step, const at::Tensor& latents)>;

class Pipeline {
public:
    /// Loads unet, vae, image_encoder, scheduler and feature_extractor from a diffusers pipeline
    /// folder. With `offload`, components stay on the CPU and visit the device only while they run.
    static std::unique_ptr<Pipeline> load(const std::filesystem::path& dir,
                                          const nn::Placement& placement, bool offload = false);

    /// Checks the settings against the model (sizes divisible by the VAE factor, positive counts);
    /// throws Error(Config) naming the setting.
    void check(const Settings& s) const;

    /// The CLIP image embedding of one image [H, W, 3] uint8: [1, 1, projection] (no guidance
    /// batch). The image goes to [-1, 1], is antialiased to 224x224, back to [0, 1] and normalized.
    at::Tensor encode_image(const at::Tensor& image);
    /// image: [H, W, 3] uint8 (any size; resized to the settings' size for the VAE and to 224 for
    /// CLIP as the reference does). Draws the noise-augmentation noise from `generator`.
    Conditioning encode(const at::Tensor& image, const Settings& s, at::Generator& generator);
    /// Sets the scheduler's timesteps and returns the initial latents [1, F, C, h, w] scaled by the
    /// scheduler's init_noise_sigma: `given` when present, else drawn from `generator`.
    at::Tensor prepare_latents(const Settings& s, at::Generator& generator,
                               const std::optional<at::Tensor>& given = std::nullopt);
    /// Runs every step of the schedule prepare_latents() set.
    at::Tensor denoise(const Conditioning& cond, at::Tensor latents, const Settings& s,
                       const StepCallback& callback = {});
    /// latents [1, F, C, h, w] -> frames [1, F, 3, H, W] float32 in [0, 1] (output_type "pt").
    at::Tensor decode(const at::Tensor& latents, const Settings& s);

    /// The whole pipeline.
    at::Tensor operator()(const at::Tensor& image, const Settings& s, at::Generator& generator,
                          const std::optional<at::Tensor>& latents = std::nullopt,
                          const StepCallback& callback = {});

    const UNet& unet() const { return *unet_; }
    const VAE& vae() const { return *vae_; }
    const enc::CLIPVisionEncoder& image_encoder() const { return *image_encoder_; }
    const nn::Placement& placement() const { return placement_; }

private:
    nn::Placement placement_;
    bool offload_ = false;
    std::unique_ptr<UNet> unet_;
    std::unique_ptr<VAE> vae_;
    std::unique_ptr<enc::CLIPVisionEncoder> image_encoder_;
    enc::CLIPImageProcessorConfig feature_extractor_;
    std::unique_ptr<sched::Scheduler> scheduler_;
};

}  // namespace vmeval::svd
