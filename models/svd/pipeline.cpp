#include "models/svd/pipeline.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "models/svd/image_resize.hpp"
#include "models/torch/runtime/pil_resize.hpp"
#include "models/torch/schedulers/guidance.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::svd {

namespace {

/// The size the reference feeds the image encoder, whatever the encoder's own config says.
constexpr int64_t kClipSize = 224;

at::Tensor to_unit_float(const at::Tensor& hwc_u8) {
    return hwc_u8.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat) / 255.0;
}

}  // namespace

std::unique_ptr<Pipeline> Pipeline::load(const std::filesystem::path& dir,
                                         const nn::Placement& placement, bool offload) {
    auto p = std::make_unique<Pipeline>();
    p->placement_ = placement;
    p->offload_ = offload && placement.device != at::Device(at::kCPU);
    const auto home = p->offload_ ? at::Device(at::kCPU) : placement.device;
    // Half-precision runs read the ".fp16." files where the snapshot has them.
    const std::string variant = placement.dtype == at::kFloat ? "" : "fp16";
    p->unet_ = UNet::load(dir / "unet", home, placement.dtype, variant);
    p->vae_ = VAE::load(dir / "vae", home, placement.dtype, variant);
    p->image_encoder_ = enc::CLIPVisionEncoder::load(dir / "image_encoder", home, placement.dtype);
    if (!p->image_encoder_->config().with_projection)
        throw Error(ErrorCode::Config,
                    (dir / "image_encoder" / "config.json").string() +
                        ": SVD needs a CLIPVisionModelWithProjection (its image_embeds)");
    p->feature_extractor_ = enc::CLIPImageProcessorConfig::from(
        nn::ConfigFile::load(dir / "feature_extractor" / "preprocessor_config.json"));
    p->scheduler_ =
        sched::make_scheduler(nn::ConfigFile::load(dir / "scheduler" / "scheduler_config.json"));
    if (p->unet_->config().cross_attention_dim.front() !=
        p->image_encoder_->config().projection_dim)
        throw Error(ErrorCode::Config,
                    (dir / "unet" / "config.json").string() +
                        ": 'cross_attention_dim' differs from the image encoder's projection_dim");
    if (p->unet_->config().in_channels != 2 * p->vae_->config().latent_channels)
        throw Error(
            ErrorCode::Config,
            (dir / "unet" / "config.json").string() +
                ": 'in_channels' must be twice the VAE's latent_channels (noise + image latent)");
    if (p->unet_->config().projection_class_embeddings_input_dim !=
        3 * p->unet_->config().addition_time_embed_dim)
        throw Error(ErrorCode::Config,
                    (dir / "unet" / "config.json").string() +
                        ": 'projection_class_embeddings_input_dim' must be 3 x "
                        "'addition_time_embed_dim' (fps, motion bucket, noise augmentation)");
    return p;
}

void Pipeline::check(const Settings& s) const {
    const int64_t f = vae_->config().spatial_factor();
    if (s.width <= 0 || s.height <= 0 || s.width % f != 0 || s.height % f != 0)
        throw Error(ErrorCode::Config, "svd: width and height must be positive multiples of " +
                                           std::to_string(f) + " (got " + std::to_string(s.width) +
                                           "x" + std::to_string(s.height) + ")");
    if (s.frames < 1) throw Error(ErrorCode::Config, "svd: frames must be at least 1");
    if (s.steps < 1) throw Error(ErrorCode::Config, "svd: steps must be at least 1");
    if (s.decode_chunk_size < 1)
        throw Error(ErrorCode::Config, "svd: decode_chunk_size must be at least 1");
}

at::Tensor Pipeline::encode_image(const at::Tensor& image) {
    nn::Visit visit(image_encoder_.get(), placement_.device, offload_);
    auto pixels = to_unit_float(image.to(at::kCPU)).to(placement_.device) * 2.0 - 1.0;
    pixels = (resize_with_antialiasing(pixels, kClipSize, kClipSize) + 1.0) / 2.0;
    pixels = enc::clip_normalize(pixels, feature_extractor_).to(placement_.dtype);
    return image_encoder_->forward(pixels).image_embeds.unsqueeze(1);
}

Conditioning Pipeline::encode(const at::Tensor& image, const Settings& s,
                              at::Generator& generator) {
    if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte)
        throw Error(ErrorCode::Internal, "svd: the input image must be [H, W, 3] uint8");
    const auto device = placement_.device;
    const auto dtype = placement_.dtype;
    Conditioning c;
    c.guided = s.max_guidance > 1.0;

    c.image_embeds = encode_image(image);

    // The VAE sees the image at the output size, plus a little noise (noise augmentation).
    auto resized = nn::pil_resize(image.to(at::kCPU), s.height, s.width, nn::PilFilter::Lanczos);
    auto pixels = to_unit_float(resized) * 2.0 - 1.0;
    auto noise = at::randn(pixels.sizes(), generator, pixels.options());
    pixels = (pixels + s.noise_aug_strength * noise).to(device, dtype);
    at::Tensor latents;
    {
        nn::Visit visit(vae_.get(), placement_.device, offload_);
        latents = vae_->encode(pixels);
    }

    auto ids =
        at::tensor(std::vector<double>{s.fps - 1.0, s.motion_bucket_id, s.noise_aug_strength},
                   at::TensorOptions().dtype(at::kDouble))
            .to(c.image_embeds.scalar_type())
            .unsqueeze(0)
            .to(device);
    if (c.guided) {
        c.image_embeds = at::cat({at::zeros_like(c.image_embeds), c.image_embeds});
        latents = at::cat({at::zeros_like(latents), latents});
        ids = at::cat({ids, ids});
    }
    c.image_latents =
        latents.to(c.image_embeds.scalar_type()).unsqueeze(1).repeat({1, s.frames, 1, 1, 1});
    c.added_time_ids = ids;
    return c;
}

at::Tensor Pipeline::prepare_latents(const Settings& s, at::Generator& generator,
                                     const std::optional<at::Tensor>& given) {
    scheduler_->set_timesteps(s.steps, placement_.device);
    const int64_t f = vae_->config().spatial_factor();
    const std::vector<int64_t> shape{1, s.frames, unet_->config().in_channels / 2, s.height / f,
                                     s.width / f};
    at::Tensor latents;
    if (given) {
        if (given->sizes() != at::IntArrayRef(shape))
            throw Error(ErrorCode::Internal, "svd: explicit latents have the wrong shape");
        latents = given->to(placement_.device, placement_.dtype);
    } else {
        latents = at::randn(shape, generator, at::TensorOptions().dtype(at::kFloat))
                      .to(placement_.device, placement_.dtype);
    }
    return latents * scheduler_->init_noise_sigma();
}

at::Tensor Pipeline::denoise(const Conditioning& c, at::Tensor latents, const Settings& s,
                             const StepCallback& callback) {
    if (scheduler_->num_steps() != s.steps)
        throw Error(ErrorCode::Internal, "svd: prepare_latents() must run before denoise()");
    nn::Visit visit(unet_.get(), placement_.device, offload_);
    const auto scales =
        sched::frame_guidance_scales(s.min_guidance, s.max_guidance, 1, s.frames, latents.dim(),
                                     latents.scalar_type(), latents.device());
    for (int i = 0; i < scheduler_->num_steps(); ++i) {
        auto input = c.guided ? at::cat({latents, latents}) : latents;
        input = scheduler_->scale_model_input(input, i);
        input = at::cat({input, c.image_latents}, 2);
        auto out =
            unet_->forward(input, scheduler_->timesteps()[i], c.image_embeds, c.added_time_ids);
        if (c.guided) {
            auto halves = out.chunk(2);
            out = sched::guide(halves[0], halves[1], scales);
        }
        latents = scheduler_->step(out, i, latents);
        if (callback) callback(i, latents);
    }
    return latents;
}

at::Tensor Pipeline::decode(const at::Tensor& latents, const Settings& s) {
    nn::Visit visit(vae_.get(), placement_.device, offload_);
    auto flat = latents.flatten(0, 1) * (1.0 / vae_->config().scaling_factor);
    auto frames = vae_->decode_chunked(flat, s.decode_chunk_size);
    frames = frames.reshape({-1, s.frames, frames.size(1), frames.size(2), frames.size(3)})
                 .to(at::kFloat);
    return (frames / 2 + 0.5).clamp(0, 1);
}

at::Tensor Pipeline::operator()(const at::Tensor& image, const Settings& s,
                                at::Generator& generator, const std::optional<at::Tensor>& latents,
                                const StepCallback& callback) {
    check(s);
    auto cond = encode(image, s, generator);
    auto x = prepare_latents(s, generator, latents);
    x = denoise(cond, x, s, callback);
    return decode(x, s);
}

}  // namespace vmeval::svd
