#include "models/svd/svd_model.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <string>
#include <vector>

#include "models/svd/pipeline.hpp"
#include "models/torch/runtime/device.hpp"
#include "models/torch/runtime/locate.hpp"
#include "models/torch/runtime/frames.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/log.hpp"

namespace vmeval::svd {

namespace {

/// The files the pipeline reads; the fp16 variant is preferred for half precision.
nn::PipelineRequirement requirement(const registry::ModelInfo& model, bool half) {
    nn::PipelineRequirement need;
    need.model_name = model.name;
    need.repo_id = model.weights != nullptr && *model.weights ? model.weights
                                                              : "stabilityai/stable-video-diffusion-img2vid-xt";
    need.weight_components = {"unet", "vae", "image_encoder"};
    need.config_only = {"scheduler", "feature_extractor"};
    if (half) need.variant = "fp16";
    return need;
}

/// Seconds since `start`.
double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class SvdModel final : public ModelWrapper {
public:
    SvdModel(const registry::ModelInfo& model, const Params& params) : name_(model.name) {
        params.expect_only({"weights", "width", "height", "frames", "steps", "fps",
                            "motion_bucket_id", "noise_aug_strength", "min_guidance",
                            "max_guidance", "decode_chunk_size", "device", "precision", "offload"},
                           model.name);
        const auto& d = model.defaults;
        s_.width = params.get_int("width", d.width > 0 ? d.width : 1024, 8, 8192);
        s_.height = params.get_int("height", d.height > 0 ? d.height : 576, 8, 8192);
        s_.frames = params.get_int("frames", d.frames > 0 ? d.frames : 25, 1, 1000);
        s_.steps = params.get_int("steps", d.steps > 0 ? d.steps : 25, 1, 1000);
        s_.fps = params.get_double("fps", d.fps > 0 ? d.fps : 7.0, 1.0, 240.0);
        s_.motion_bucket_id = params.get_int("motion_bucket_id", 127, 0, 1023);
        s_.noise_aug_strength = params.get_double("noise_aug_strength", 0.02, 0.0, 10.0);
        s_.min_guidance = params.get_double("min_guidance", 1.0, 0.0, 100.0);
        s_.max_guidance =
            params.get_double("max_guidance", d.guidance > 0 ? d.guidance : 3.0, 0.0, 100.0);
        // Every frame at once, as the reference does by default: chunks are decoded as separate
        // clips, which changes the frames. On a 24 GB card --param decode_chunk_size=8 bounds the
        // temporal decoder's memory, as the model page suggests.
        s_.decode_chunk_size = params.get_int("decode_chunk_size", s_.frames, 1, 1000);
        offload_ = params.get_int("offload", 0, 0, 1) == 1;
        placement_ = nn::choose_placement(params.get_string("device", "auto"),
                                          params.get_string("precision", "auto"));

        const auto dir = nn::locate_pipeline(requirement(model, placement_.dtype != at::kFloat),
                                             params.get_string("weights", ""));
        c10::InferenceMode guard;
        pipeline_ = Pipeline::load(dir, placement_, offload_);
        pipeline_->check(s_);
        weights_ = dir.string();
    }

    int max_concurrency() const override { return 1; }

    GenerationResult generate(const GenerationRequest& request) override {
        if (request.first_frame == nullptr)
            throw Error(ErrorCode::InvalidQuestion,
                        name_ + ": the question has no first_frame.png");
        if (request.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
        c10::InferenceMode guard;
        const auto& first = *request.first_frame;
        auto image = nn::rgb_tensor(first);
        // One CPU generator for every draw, as the reference with
        // torch.Generator().manual_seed(seed).
        auto gen = at::make_generator<at::CPUGeneratorImpl>(request.seed);
        nn::PeakMemory peak(placement_.device);
        GenerationResult result;

        auto t = std::chrono::steady_clock::now();
        auto cond = pipeline_->encode(image, s_, gen);
        auto latents = pipeline_->prepare_latents(s_, gen);
        result.phases.emplace_back("encode", since(t));

        t = std::chrono::steady_clock::now();
        latents = pipeline_->denoise(cond, latents, s_, [&](int step, const at::Tensor&) {
            if (request.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
            logging::debug(name_ + ": " + request.first_frame_path.parent_path().filename().string() + " step " +
                           std::to_string(step + 1) + "/" + std::to_string(s_.steps));
        });
        result.phases.emplace_back("denoise", since(t));

        t = std::chrono::steady_clock::now();
        auto rgb = nn::to_rgb8(pipeline_->decode(latents, s_));
        result.phases.emplace_back("decode", since(t));

        t = std::chrono::steady_clock::now();
        nn::write_mp4(rgb, request.video_path, s_.fps, [&] { return request.cancelled(); });
        result.phases.emplace_back("write", since(t));

        result.parameters = {{"width", s_.width},
                             {"height", s_.height},
                             {"frames", s_.frames},
                             {"steps", s_.steps},
                             {"fps", s_.fps},
                             {"duration_s", static_cast<double>(s_.frames) / s_.fps},
                             {"motion_bucket_id", static_cast<int>(s_.motion_bucket_id)},
                             {"noise_aug_strength", s_.noise_aug_strength},
                             {"min_guidance", s_.min_guidance},
                             {"max_guidance", s_.max_guidance},
                             {"decode_chunk_size", s_.decode_chunk_size},
                             {"offload", offload_},
                             {"seed", request.seed},
                             {"weights", weights_}};
        result.resources = nn::resources(placement_, peak);
        return result;
    }

private:
    std::string name_;
    Settings s_;
    bool offload_ = false;
    nn::Placement placement_;
    std::unique_ptr<Pipeline> pipeline_;
    std::string weights_;
};

}  // namespace

std::unique_ptr<ModelWrapper> make_svd(const registry::ModelInfo& model, const Params& params) {
    return std::make_unique<SvdModel>(model, params);
}

std::string weights_problem(const registry::ModelInfo& model, const Params& params) {
    try {
        (void)nn::locate_pipeline(requirement(model, false), params.get_string("weights", ""));
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

}  // namespace vmeval::svd
