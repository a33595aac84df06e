#include "models/wan/wan_model.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/runtime/device.hpp"
#include "models/torch/runtime/locate.hpp"
#include "models/torch/runtime/pil_resize.hpp"
#include "models/torch/runtime/frames.hpp"
#include "models/wan/pipeline.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/log.hpp"
#include "vmeval/weights/hub_cache.hpp"

namespace vmeval::wan {

const char* const kDefaultNegativePrompt =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形"
    "的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

namespace {

namespace fs = std::filesystem;

constexpr const char* kMorphicBase = "Wan-AI/Wan2.2-I2V-A14B-Diffusers";
constexpr const char* kMorphicLoraFile = "lora_interpolation_high_noise_final.safetensors";
// Morphic's generate.py builds its LoraConfig with lora_alpha 16 (rank 32 in the file).
constexpr double kMorphicLoraAlpha = 16.0;

struct Preset {
    std::string repo;
    bool image_encoder = false;  ///< Wan 2.1: CLIP image tokens
    bool two_experts = false;    ///< Wan 2.2 A14B
    bool morphic = false;        ///< LoRA + first and last frame
};

Preset preset_of(const registry::ModelInfo& model) {
    Preset p;
    if (model.backend == registry::Backend::Morphic) {
        p.repo = kMorphicBase;
        p.two_experts = p.morphic = true;
        return p;
    }
    p.repo = model.provider_model_id;
    const std::string name = model.name;
    p.two_experts = name == "wan-2.2-i2v-a14b";
    p.image_encoder = name.rfind("wan-2.1-", 0) == 0;
    return p;
}

nn::PipelineRequirement requirement(const registry::ModelInfo& model, const Preset& preset) {
    nn::PipelineRequirement need;
    need.model_name = model.name;
    need.repo_id = preset.repo;
    need.weight_components = {"text_encoder", "transformer", "vae"};
    need.config_only = {"scheduler"};
    need.tokenizer_files = {"tokenizer/spiece.model"};
    if (preset.image_encoder) {
        need.weight_components.push_back("image_encoder");
        need.config_only.push_back("image_processor");
    }
    if (preset.two_experts) need.weight_components.push_back("transformer_2");
    return need;
}

/// Morphic's LoRA: `--param lora=FILE`, else the file in the cache snapshot of its repository.
fs::path locate_lora(const registry::ModelInfo& model, const Params& params) {
    const auto given = params.get_string("lora", "");
    if (!given.empty()) {
        if (!fs::is_regular_file(given))
            throw Error(ErrorCode::ModelUnavailable,
                        std::string(model.name) + ": LoRA file " + given +
                            " does not exist (--param lora=FILE names Morphic's " +
                            kMorphicLoraFile + ")");
        return given;
    }
    auto snapshot = weights::find_snapshot(model.provider_model_id);
    if (snapshot && fs::is_regular_file(*snapshot / kMorphicLoraFile)) return *snapshot / kMorphicLoraFile;
    throw Error(ErrorCode::ModelUnavailable,
                std::string(model.name) + ": " + kMorphicLoraFile + " of " + model.provider_model_id +
                    " is not in the Hugging Face cache (" + weights::hub_cache_dir().string() +
                    "); fetch it with `vmeval pull " + model.name + "` or pass --param lora=FILE");
}

double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class WanModel final : public ModelWrapper {
public:
    WanModel(const registry::ModelInfo& model, const Params& params)
        : name_(model.name), preset_(preset_of(model)) {
        std::vector<std::string> keys = {"weights", "width", "height", "frames", "steps", "fps",
                                         "guidance", "negative_prompt", "flow_shift", "offload",
                                         "device", "precision"};
        if (preset_.two_experts) keys.push_back("guidance_2");
        if (preset_.morphic) {
            keys.push_back("lora");
            keys.push_back("lora_alpha");
        }
        params.expect_only(keys, model.name);
        const auto& d = model.defaults;
        width_ = params.get_int("width", d.width, 16, 8192);
        height_ = params.get_int("height", d.height, 16, 8192);
        settings_.num_frames = params.get_int("frames", d.frames, 1, 1001);
        settings_.steps = params.get_int("steps", d.steps, 1, 1000);
        fps_ = params.get_double("fps", d.fps, 1.0, 240.0);
        settings_.guidance_scale = params.get_double("guidance", d.guidance, 0.0, 100.0);
        if (preset_.two_experts)
            settings_.guidance_scale_2 =
                params.get_double("guidance_2", settings_.guidance_scale, 0.0, 100.0);
        negative_prompt_ = params.get_string("negative_prompt", kDefaultNegativePrompt);
        if (params.has("flow_shift")) flow_shift_ = params.get_double("flow_shift", 1.0, 0.01, 100.0);
        placement_ = nn::choose_placement(params.get_string("device", "auto"),
                                          params.get_string("precision", "auto"));
        const bool gpu = placement_.device != at::Device(at::kCPU);
        // On a GPU the text encoder and the idle expert wait in host memory by default: that is
        // what fits wan-2.2-i2v-a14b (two 28.6 GB experts, an 11 GB text encoder) on one 80 GB card.
        offload_ = params.get_int("offload", gpu ? 1 : 0, 0, 1) == 1;

        const auto dir = nn::locate_pipeline(requirement(model, preset_), params.get_string("weights", ""));
        fs::path lora;
        if (preset_.morphic) {
            lora = locate_lora(model, params);
            lora_alpha_ = params.get_double("lora_alpha", kMorphicLoraAlpha, 1e-6, 1e6);
        }
        c10::InferenceMode guard;
        pipeline_ = I2VPipeline::load(dir, placement_, offload_);
        if (preset_.image_encoder != pipeline_->has_image_encoder() ||
            preset_.two_experts != pipeline_->has_second_expert())
            throw Error(ErrorCode::Config,
                        dir.string() + " is not a " + preset_.repo + " pipeline folder (" +
                            (pipeline_->has_image_encoder() ? "with" : "without") +
                            " an image encoder, " + (pipeline_->has_second_expert() ? "two experts" : "one transformer") +
                            "); point --param weights at that repository's files");
        pipeline_->set_flow_shift(flow_shift_);
        if (!lora.empty()) {
            auto merged = pipeline_->merge_lora(lora, lora_alpha_);
            lora_ = {{"file", lora.string()},
                     {"modules", merged.modules},
                     {"rank", merged.rank},
                     {"scale", merged.scale}};
        }
        weights_ = dir.string();
    }

    int max_concurrency() const override { return 1; }
    bool needs_final_frame() const override { return preset_.morphic; }

    GenerationResult generate(const GenerationRequest& request) override {
        if (request.first_frame == nullptr)
            throw Error(ErrorCode::InvalidQuestion, name_ + ": the question has no first_frame.png");
        if (preset_.morphic && request.final_frame == nullptr)
            throw Error(ErrorCode::InvalidQuestion,
                        name_ + ": interpolates to the question's final_frame.png, which " +
                            request.first_frame_path.parent_path().string() + " does not have");
        if (request.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
        c10::InferenceMode guard;
        const auto& first = *request.first_frame;
        const auto [width, height] = area_size(first.width, first.height, int64_t{width_} * height_,
                                               pipeline_->size_multiple());
        I2VRequest run;
        // The model cards resize with PIL's default for Image.resize, bicubic.
        run.image = nn::pil_resize(nn::rgb_tensor(first), height, width, nn::PilFilter::Bicubic);
        if (preset_.morphic)
            run.last_image = nn::pil_resize(nn::rgb_tensor(*request.final_frame), height, width, nn::PilFilter::Bicubic);
        run.prompt = request.prompt;
        run.negative_prompt = negative_prompt_;
        run.seed = request.seed;
        run.decode = false;
        auto t = std::chrono::steady_clock::now();
        double denoise_start = 0;
        run.on_step = [&](int step, int steps) {
            if (request.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
            if (step == 0) denoise_start = since(t);
            // Minutes per video on a GPU: the batch log shows where each one is.
            logging::debug(name_ + ": " + request.first_frame_path.parent_path().filename().string() + " step " +
                           std::to_string(step + 1) + "/" + std::to_string(steps) + " at " +
                           std::to_string(static_cast<int>(since(t))) + " s");
        };
        I2VSettings s = settings_;
        s.width = width;
        s.height = height;
        nn::PeakMemory peak(placement_.device);
        GenerationResult result;
        auto out = pipeline_->run(run, s);
        const double total = since(t);
        result.phases.emplace_back("encode", denoise_start);
        result.phases.emplace_back("denoise", total - denoise_start);

        t = std::chrono::steady_clock::now();
        auto rgb = nn::to_rgb8(pipeline_->decode(out.latents));
        result.phases.emplace_back("decode", since(t));

        t = std::chrono::steady_clock::now();
        nn::write_mp4(rgb, request.video_path, fps_, [&] { return request.cancelled(); });
        result.phases.emplace_back("write", since(t));

        const int64_t frames = rgb.size(0);
        result.parameters = {{"width", width},
                             {"height", height},
                             {"area_budget", {{"width", width_}, {"height", height_}}},
                             {"frames", frames},
                             {"steps", s.steps},
                             {"fps", fps_},
                             {"duration_s", static_cast<double>(frames) / fps_},
                             {"guidance", s.guidance_scale},
                             {"negative_prompt", negative_prompt_},
                             {"offload", offload_},
                             {"seed", request.seed},
                             {"weights", weights_}};
        if (s.guidance_scale_2) result.parameters["guidance_2"] = *s.guidance_scale_2;
        if (flow_shift_) result.parameters["flow_shift"] = *flow_shift_;
        if (!lora_.is_null()) result.parameters["lora"] = lora_;
        result.resources = nn::resources(placement_, peak);
        return result;
    }

private:
    std::string name_;
    Preset preset_;
    int width_ = 0, height_ = 0;
    double fps_ = 16;
    I2VSettings settings_;
    std::string negative_prompt_;
    std::optional<double> flow_shift_;
    double lora_alpha_ = kMorphicLoraAlpha;
    bool offload_ = false;
    nn::Placement placement_;
    std::unique_ptr<I2VPipeline> pipeline_;
    std::string weights_;
    nlohmann::json lora_;
};

}  // namespace

std::pair<int64_t, int64_t> area_size(int64_t image_width, int64_t image_height, int64_t area,
                                      int64_t multiple) {
    const double aspect = static_cast<double>(image_height) / static_cast<double>(image_width);
    // Python's round() on numpy floats rounds halves to even, as nearbyint does by default.
    const auto side = [&](double v) {
        return static_cast<int64_t>(std::nearbyint(std::sqrt(v))) / multiple * multiple;
    };
    const int64_t height = side(static_cast<double>(area) * aspect);
    const int64_t width = side(static_cast<double>(area) / aspect);
    if (height < multiple || width < multiple)
        throw Error(ErrorCode::InvalidQuestion,
                    "a " + std::to_string(image_width) + "x" + std::to_string(image_height) +
                        " image does not fit an area of " + std::to_string(area) +
                        " pixels with both sides a multiple of " + std::to_string(multiple) +
                        "; use a less extreme aspect ratio or raise --param width/height");
    return {width, height};
}

std::unique_ptr<ModelWrapper> make_wan(const registry::ModelInfo& model, const Params& params) {
    return std::make_unique<WanModel>(model, params);
}

std::string weights_problem(const registry::ModelInfo& model, const Params& params) {
    try {
        const auto preset = preset_of(model);
        (void)nn::locate_pipeline(requirement(model, preset), params.get_string("weights", ""));
        if (preset.morphic) (void)locate_lora(model, params);
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

}  // namespace vmeval::wan
