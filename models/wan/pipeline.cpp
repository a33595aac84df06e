#include "models/wan/pipeline.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "models/torch/runtime/config.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::wan {

namespace fs = std::filesystem;

std::string clean_prompt(const std::string& text) {
    std::string out;
    bool pending_space = false;
    for (unsigned char ch : text) {
        if (std::isspace(ch)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += static_cast<char>(ch);
    }
    return out;
}

std::unique_ptr<I2VPipeline> I2VPipeline::load(const fs::path& dir,
                                               const nn::Placement& placement) {
    auto index = nn::ModelIndex::load(dir);
    index.require({"tokenizer", "text_encoder", "vae", "scheduler"});
    auto index_file = nn::ConfigFile::load(dir / "model_index.json");
    if (index_file.get<bool>("expand_timesteps", false))
        throw Error(ErrorCode::Config,
                    (dir / "model_index.json").string() +
                        ": expand_timesteps (Wan 2.2 TI2V-5B) is not supported by "
                        "the I2V pipeline; use a Wan 2.1 I2V or 2.2 A14B folder");

    std::unique_ptr<I2VPipeline> pipe(new I2VPipeline());
    pipe->placement_ = placement;
    const auto device = placement.device;
    pipe->tokenizer_ = std::make_unique<tokenizers::SentencePieceTokenizer>(
        tokenizers::SentencePieceTokenizer::load(index.dir("tokenizer")));
    pipe->text_encoder_ = enc::T5Encoder::load(index.dir("text_encoder"), device, placement.dtype);
    if (index.components.count("transformer"))
        pipe->transformer_ = Transformer::load(index.dir("transformer"), device, placement.dtype);
    if (index.components.count("transformer_2"))
        pipe->transformer_2_ =
            Transformer::load(index.dir("transformer_2"), device, placement.dtype);
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
    pipe->vae_ = VAE::load(index.dir("vae"), device, at::kFloat);
    if (pipe->transformer_->config().image_dim > 0) {
        index.require({"image_encoder", "image_processor"});
        pipe->image_encoder_ =
            enc::CLIPVisionEncoder::load(index.dir("image_encoder"), device, at::kFloat);
        pipe->image_processor_ = enc::CLIPImageProcessorConfig::from(
            nn::ConfigFile::load(index.dir("image_processor") / "preprocessor_config.json"));
    }
    pipe->scheduler_config_ = index.dir("scheduler") / "scheduler_config.json";
    // Parse once here so a bad scheduler config fails at load, not on the first run.
    sched::make_scheduler(nn::ConfigFile::load(pipe->scheduler_config_));
    return pipe;
}

at::Tensor I2VPipeline::encode_prompt(const std::string& prompt, int64_t max_length) const {
    auto encoded = tokenizer_->encode(
        clean_prompt(prompt), tokenizers::SentencePieceOptions::t5(static_cast<int>(max_length)));
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

at::Tensor I2VPipeline::condition(const at::Tensor& image, int64_t num_frames) const {
    const auto& vc = vae_->config();
    const int64_t height = image.size(0), width = image.size(1);
    // VideoProcessor.preprocess: [0, 255] -> [-1, 1], channels first.
    auto first = image.to(placement_.device).permute({2, 0, 1}).unsqueeze(0).to(at::kFloat) / 255.0;
    first = first * 2.0 - 1.0;
    auto video = at::cat(
        {first.unsqueeze(2), at::zeros({1, 3, num_frames - 1, height, width}, first.options())}, 2);
    auto latent = vae_->normalize_latents(vae_->encode(video));
    const int64_t t = latent.size(2), h = latent.size(3), w = latent.size(4);
    const int64_t st = vc.scale_factor_temporal;
    // One mask value per pixel frame, the first repeated st times so that the frame count is a
    // multiple of st, then folded st frames per latent frame into channels.
    auto mask = at::zeros({1, 1, num_frames + st - 1, h, w}, latent.options());
    mask.narrow(2, 0, st).fill_(1.0);
    mask = mask.view({1, -1, st, h, w}).transpose(1, 2);
    if (mask.size(2) != t)
        throw Error(ErrorCode::Internal, "Wan I2V: mask frames do not match the latent frames");
    return at::cat({mask, latent}, 1);
}

I2VResult I2VPipeline::run(const at::Tensor& image, const std::string& prompt,
                           const std::string& negative_prompt, const I2VSettings& settings,
                           const std::optional<at::Tensor>& latents, std::optional<uint64_t> seed,
                           bool decode) const {
    const auto& vc = vae_->config();
    const auto& tc = transformer_->config();
    const int64_t st = vc.scale_factor_temporal, ss = vc.scale_factor_spatial;
    int64_t num_frames = settings.num_frames;
    if (num_frames % st != 1) num_frames = num_frames / st * st + 1;
    num_frames = std::max<int64_t>(num_frames, 1);
    const int64_t hm = ss * tc.patch_size[1], wm = ss * tc.patch_size[2];
    const int64_t height = settings.height / hm * hm, width = settings.width / wm * wm;
    if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte)
        throw Error(ErrorCode::Config, "Wan I2V: the image must be [H, W, 3] uint8 RGB");
    if (image.size(0) != height || image.size(1) != width)
        throw Error(ErrorCode::Config, "Wan I2V: the image is " + std::to_string(image.size(1)) +
                                           "x" + std::to_string(image.size(0)) +
                                           " but the video is " + std::to_string(width) + "x" +
                                           std::to_string(height) +
                                           "; resize it to the video size first");
    const bool cfg = settings.guidance_scale > 1.0;
    const double guidance_2 = settings.guidance_scale_2.value_or(settings.guidance_scale);
    if (settings.guidance_scale_2 && !boundary_ratio_)
        throw Error(ErrorCode::Config,
                    "Wan I2V: guidance_scale_2 needs a pipeline with boundary_ratio "
                    "(model_index.json) and transformer_2");

    const auto dtype = placement_.dtype;
    auto prompt_embeds = encode_prompt(prompt, settings.max_sequence_length).to(dtype);
    at::Tensor negative_embeds;
    if (cfg)
        negative_embeds = encode_prompt(negative_prompt, settings.max_sequence_length).to(dtype);
    std::optional<at::Tensor> image_embeds;
    if (tc.image_dim > 0) image_embeds = encode_image(image).to(dtype);

    auto scheduler = sched::make_scheduler(nn::ConfigFile::load(scheduler_config_));
    scheduler->set_timesteps(settings.steps, placement_.device);
    const auto timesteps = scheduler->timesteps().to(at::kCPU);

    const int64_t frames_latent = (num_frames - 1) / st + 1;
    const std::vector<int64_t> shape{1, vc.z_dim, frames_latent, height / ss, width / ss};
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    at::Tensor x;
    if (latents) {
        if (latents->sizes().vec() != shape)
            throw Error(ErrorCode::Config,
                        "Wan I2V: the initial latents must be [1, z_dim, (F - 1) / 4 + 1, "
                        "H / 8, W / 8] for these settings");
        x = latents->to(placement_.device, at::kFloat);
    } else {
        // randn_tensor draws on the generator's device (the CPU) and then moves the result.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(seed.value_or(0));
        x = at::randn(shape, gen, f32).to(placement_.device);
    }
    const auto cond = condition(image, num_frames).to(at::kFloat);

    std::optional<double> boundary;
    if (boundary_ratio_)
        boundary = *boundary_ratio_ * static_cast<double>(scheduler->num_train_timesteps());
    for (int i = 0; i < scheduler->num_steps(); ++i) {
        const auto t = timesteps[i];
        const bool high = !boundary || t.item<double>() >= *boundary;
        const Transformer& model = high ? *transformer_ : *transformer_2_;
        const double scale = high ? settings.guidance_scale : guidance_2;
        auto input = at::cat({x, cond}, 1).to(dtype);
        auto timestep = t.to(placement_.device).expand({x.size(0)});
        auto noise = model.forward(input, timestep, prompt_embeds, image_embeds);
        if (cfg) {
            auto uncond = model.forward(input, timestep, negative_embeds, image_embeds);
            noise = uncond + scale * (noise - uncond);
        }
        x = scheduler->step(noise, i, x);
    }

    I2VResult result;
    result.latents = x;
    if (decode) {
        auto video = vae_->decode(vae_->denormalize_latents(x.to(at::kFloat)));
        // postprocess_video(output_type="pt"): [-1, 1] -> [0, 1], frames first.
        result.video = (video / 2.0 + 0.5).clamp(0.0, 1.0).permute({0, 2, 1, 3, 4}).contiguous();
    }
    return result;
}

}  // namespace vmeval::wan
