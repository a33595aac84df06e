#include "models/wan/pipeline.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <vector>

#include "models/torch/runtime/config.hpp"
#include "models/torch/tokenizers/prompt_clean.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::wan {

namespace fs = std::filesystem;

void I2VPipeline::make_resident(Transformer* model) const {
    if (!offload_ || resident_ == model) return;
    if (resident_) resident_->to(at::kCPU);
    resident_ = nullptr;
    model->to(placement_.device);
    resident_ = model;
}

std::unique_ptr<I2VPipeline> I2VPipeline::load(const fs::path& dir, const nn::Placement& placement,
                                               bool offload) {
    auto index = nn::ModelIndex::load(dir);
    index.require({"tokenizer", "text_encoder", "vae", "scheduler"});
    auto index_file = nn::ConfigFile::load(dir / "model_index.json");

    std::unique_ptr<I2VPipeline> pipe(new I2VPipeline());
    pipe->placement_ = placement;
    pipe->offload_ = offload && placement.device != at::Device(at::kCPU);
    pipe->expand_timesteps_ = index_file.get<bool>("expand_timesteps", false);
    const auto device = placement.device;
    const auto home = pipe->offload_ ? at::Device(at::kCPU) : device;
    pipe->tokenizer_ = std::make_unique<tokenizers::SentencePieceTokenizer>(
        tokenizers::SentencePieceTokenizer::load(index.dir("tokenizer")));
    pipe->text_encoder_ = enc::T5Encoder::load(index.dir("text_encoder"), home, placement.dtype);
    if (index.components.count("transformer"))
        pipe->transformer_ = Transformer::load(index.dir("transformer"), home, placement.dtype);
    if (index.components.count("transformer_2"))
        pipe->transformer_2_ = Transformer::load(index.dir("transformer_2"), home, placement.dtype);
    if (!pipe->transformer_)
        throw Error(ErrorCode::Config, (dir / "model_index.json").string() +
                                           ": no 'transformer' component; the high-noise expert "
                                           "(or the only transformer) is required");
    if (index_file.has("boundary_ratio")) {
        pipe->boundary_ratio_ = index_file.get<double>("boundary_ratio");
        if (!pipe->transformer_2_)
            throw Error(ErrorCode::Config,
                        (dir / "model_index.json").string() +
                            ": boundary_ratio is set but there is no transformer_2; "
                            "download the low-noise expert too");
    }
    // The VAE is small (0.25 GB) and runs at both ends of every video: it stays on the device.
    pipe->vae_ = VAE::load(index.dir("vae"), device, at::kFloat);
    const auto& tc = pipe->transformer_->config();
    const int64_t z = pipe->vae_->config().z_dim;
    const int64_t want_in = pipe->expand_timesteps_ ? z : 2 * z + 4;
    if (tc.in_channels != want_in)
        throw Error(ErrorCode::Config,
                    (index.dir("transformer") / "config.json").string() + ": in_channels is " +
                        std::to_string(tc.in_channels) + " but this pipeline feeds " +
                        std::to_string(want_in) +
                        (pipe->expand_timesteps_ ? " (expand_timesteps: the latents alone)"
                                                 : " (latents, 4 mask channels, image latents)") +
                        "; the transformer and the VAE come from different models");
    if (tc.image_dim > 0) {
        index.require({"image_encoder", "image_processor"});
        pipe->image_encoder_ =
            enc::CLIPVisionEncoder::load(index.dir("image_encoder"), home, at::kFloat);
        pipe->image_processor_ = enc::CLIPImageProcessorConfig::from(
            nn::ConfigFile::load(index.dir("image_processor") / "preprocessor_config.json"));
    }
    pipe->scheduler_config_ = index.dir("scheduler") / "scheduler_config.json";
    // Parse once here so a bad scheduler config fails at load, not on the first run.
    sched::make_scheduler(nn::ConfigFile::load(pipe->scheduler_config_));
    return pipe;
}

LoraMerge I2VPipeline::merge_lora(const fs::path& file, double alpha) {
    return wan::merge_lora(*transformer_, file, alpha);
}

int64_t I2VPipeline::size_multiple() const {
    const auto& p = transformer_->config().patch_size;
    return vae_->config().scale_factor_spatial * std::max(p[1], p[2]);
}

at::Tensor I2VPipeline::encode_prompt(const std::string& prompt, int64_t max_length) const {
    // The reference's prompt_clean: ftfy.fix_text, html.unescape twice, whitespace collapsed.
    auto encoded = tokenizer_->encode(
        tokenizers::wan_prompt_clean(prompt), tokenizers::SentencePieceOptions::t5(static_cast<int>(max_length)));
    const auto n = static_cast<int64_t>(encoded.ids.size());
    auto ids = at::tensor(encoded.ids, at::kLong).view({1, n}).to(placement_.device);
    auto mask = at::tensor(encoded.mask, at::kLong).view({1, n}).to(placement_.device);
    int64_t length = 0;
    for (auto m : encoded.mask) length += m > 0 ? 1 : 0;
    auto hidden = text_encoder_->forward(ids, mask);
    // The reference keeps the true tokens and pads with exact zeros (not the encoder's output on
    // padding), up to max_length.
    auto out = at::zeros({1, max_length, hidden.size(2)}, hidden.options());
    out.narrow(1, 0, length).copy_(hidden.narrow(1, 0, length));
    return out;
}

at::Tensor I2VPipeline::encode_image(const at::Tensor& image) const {
    if (!image_encoder_)
        throw Error(ErrorCode::Config,
                    "Wan I2V: this pipeline folder has no image_encoder "
                    "(the transformer has no image_dim)");
    auto pixels = enc::clip_preprocess(image, image_processor_).to(placement_.device, at::kFloat);
    return image_encoder_->penultimate_hidden_state(pixels);
}

at::Tensor I2VPipeline::pixels(const at::Tensor& image) const {
    // VideoProcessor.preprocess: [0, 255] -> [-1, 1], channels first.
    auto x = image.to(placement_.device).permute({2, 0, 1}).unsqueeze(0).to(at::kFloat) / 255.0;
    return x * 2.0 - 1.0;
}

at::Tensor I2VPipeline::encode_video(const at::Tensor& video) const {
    return vae_->normalize_latents(vae_->encode(video));
}

at::Tensor I2VPipeline::condition(const at::Tensor& image, int64_t num_frames,
                                  const std::optional<at::Tensor>& last_image) const {
    const auto& vc = vae_->config();
    const int64_t height = image.size(0), width = image.size(1);
    const auto first = pixels(image).unsqueeze(2);
    const int64_t zeros = num_frames - (last_image ? 2 : 1);
    if (zeros < 0)
        throw Error(ErrorCode::Config, "Wan I2V: first and last frame need at least 2 frames");
    std::vector<at::Tensor> parts{first, at::zeros({1, 3, zeros, height, width}, first.options())};
    if (last_image) parts.push_back(pixels(*last_image).unsqueeze(2));
    auto latent = encode_video(at::cat(parts, 2));
    const int64_t t = latent.size(2), h = latent.size(3), w = latent.size(4);
    const int64_t st = vc.scale_factor_temporal;
    // One mask value per pixel frame (1 on the given frames), the first repeated st times so that
    // the count is a multiple of st, then folded st frames per latent frame into channels.
    auto mask = at::zeros({1, 1, num_frames + st - 1, h, w}, latent.options());
    mask.narrow(2, 0, st).fill_(1.0);
    if (last_image) mask.narrow(2, num_frames + st - 2, 1).fill_(1.0);
    mask = mask.view({1, -1, st, h, w}).transpose(1, 2);
    if (mask.size(2) != t)
        throw Error(ErrorCode::Internal, "Wan I2V: mask frames do not match the latent frames");
    return at::cat({mask, latent}, 1);
}

namespace {

void check_image(const at::Tensor& image, const char* what, int64_t height, int64_t width) {
    if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte)
        throw Error(ErrorCode::Config,
                    std::string("Wan I2V: the ") + what + " must be [H, W, 3] uint8 RGB");
    if (image.size(0) != height || image.size(1) != width)
        throw Error(ErrorCode::Config, std::string("Wan I2V: the ") + what + " is " +
                                           std::to_string(image.size(1)) + "x" +
                                           std::to_string(image.size(0)) + " but the video is " +
                                           std::to_string(width) + "x" + std::to_string(height) +
                                           "; resize it to the video size first");
}

}  // namespace

I2VResult I2VPipeline::run(const I2VRequest& request, const I2VSettings& settings) const {
    const auto& vc = vae_->config();
    const auto& tc = transformer_->config();
    const int64_t st = vc.scale_factor_temporal, ss = vc.scale_factor_spatial;
    int64_t num_frames = settings.num_frames;
    if (num_frames % st != 1) num_frames = num_frames / st * st + 1;
    num_frames = std::max<int64_t>(num_frames, 1);
    const int64_t hm = ss * tc.patch_size[1], wm = ss * tc.patch_size[2];
    const int64_t height = settings.height / hm * hm, width = settings.width / wm * wm;
    check_image(request.image, "image", height, width);
    if (request.last_image) {
        check_image(*request.last_image, "last image", height, width);
        if (expand_timesteps_)
            throw Error(ErrorCode::Config,
                        "Wan I2V: expand_timesteps pipelines (TI2V-5B) condition on the first "
                        "frame only; use a Wan 2.2 A14B pipeline for first+last frame");
    }
    const bool cfg = settings.guidance_scale > 1.0;
    const double guidance_2 = settings.guidance_scale_2.value_or(settings.guidance_scale);
    if (settings.guidance_scale_2 && !boundary_ratio_)
        throw Error(ErrorCode::Config,
                    "Wan I2V: guidance_scale_2 needs a pipeline with boundary_ratio "
                    "(model_index.json) and transformer_2");

    const auto dtype = placement_.dtype;
    at::Tensor prompt_embeds, negative_embeds;
    {
        nn::Visit visit(text_encoder_.get(), placement_.device, offload_);
        prompt_embeds = encode_prompt(request.prompt, settings.max_sequence_length).to(dtype);
        if (cfg)
            negative_embeds =
                encode_prompt(request.negative_prompt, settings.max_sequence_length).to(dtype);
    }
    std::optional<at::Tensor> image_embeds;
    if (tc.image_dim > 0) {
        nn::Visit visit(image_encoder_.get(), placement_.device, offload_);
        auto embeds = encode_image(request.image);
        // Both frames' tokens, as the reference encodes [image, last_image] in one batch.
        if (request.last_image) embeds = at::cat({embeds, encode_image(*request.last_image)}, 0);
        image_embeds = embeds.to(dtype);
    }

    auto scheduler_config = nn::ConfigFile::load(scheduler_config_);
    if (flow_shift_) {
        auto json = scheduler_config.json();
        json["flow_shift"] = *flow_shift_;
        scheduler_config = nn::ConfigFile(json, scheduler_config.path());
    }
    auto scheduler = sched::make_scheduler(scheduler_config);
    scheduler->set_timesteps(settings.steps, placement_.device);
    const auto timesteps = scheduler->timesteps().to(at::kCPU);

    const int64_t frames_latent = (num_frames - 1) / st + 1;
    const std::vector<int64_t> shape{1, vc.z_dim, frames_latent, height / ss, width / ss};
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    at::Tensor x;
    if (request.latents) {
        if (request.latents->sizes().vec() != shape)
            throw Error(ErrorCode::Config,
                        "Wan I2V: the initial latents must be [1, z_dim, (F - 1) / 4 + 1, "
                        "H / s, W / s] for these settings");
        x = request.latents->to(placement_.device, at::kFloat);
    } else {
        // randn_tensor draws on the generator's device (the CPU) and then moves the result.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(request.seed);
        x = at::randn(shape, gen, f32).to(placement_.device);
    }

    at::Tensor cond, mask, token_mask;
    if (expand_timesteps_) {
        // The image's own latent replaces the first latent frame, which keeps timestep 0.
        cond = encode_video(pixels(request.image).unsqueeze(2)).to(at::kFloat);
        mask = at::ones({1, 1, frames_latent, height / ss, width / ss}, x.options());
        mask.narrow(2, 0, 1).zero_();
        token_mask = mask[0][0]
                         .slice(1, 0, c10::nullopt, tc.patch_size[1])
                         .slice(2, 0, c10::nullopt, tc.patch_size[2])
                         .flatten();
    } else {
        cond = condition(request.image, num_frames, request.last_image).to(at::kFloat);
    }

    std::optional<double> boundary;
    if (boundary_ratio_)
        boundary = *boundary_ratio_ * static_cast<double>(scheduler->num_train_timesteps());
    const int steps = scheduler->num_steps();
    for (int i = 0; i < steps; ++i) {
        if (request.on_step) request.on_step(i, steps);
        const auto t = timesteps[i];
        const bool high = !boundary || t.item<double>() >= *boundary;
        Transformer* model = high ? transformer_.get() : transformer_2_.get();
        make_resident(model);
        const double scale = high ? settings.guidance_scale : guidance_2;
        at::Tensor input, timestep;
        if (expand_timesteps_) {
            input = ((1 - mask) * cond + mask * x).to(dtype);
            timestep = (token_mask * t.to(placement_.device)).unsqueeze(0).expand({x.size(0), -1});
        } else {
            input = at::cat({x, cond}, 1).to(dtype);
            timestep = t.to(placement_.device).expand({x.size(0)});
        }
        auto noise = model->forward(input, timestep, prompt_embeds, image_embeds);
        if (cfg) {
            auto uncond = model->forward(input, timestep, negative_embeds, image_embeds);
            noise = uncond + scale * (noise - uncond);
        }
        x = scheduler->step(noise, i, x);
    }
    if (expand_timesteps_) x = (1 - mask) * cond + mask * x;

    I2VResult result;
    result.latents = x;
    if (request.decode) result.video = decode(x);
    return result;
}

at::Tensor I2VPipeline::decode(const at::Tensor& latents) const {
    auto video = vae_->decode(vae_->denormalize_latents(latents.to(placement_.device, at::kFloat)));
    // postprocess_video(output_type="pt"): [-1, 1] -> [0, 1], frames first.
    return (video / 2.0 + 0.5).clamp(0.0, 1.0).permute({0, 2, 1, 3, 4}).contiguous();
}

}  // namespace vmeval::wan
