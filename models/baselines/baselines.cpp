// vmeval's own reference points: they need no keys and no GPU, so they are the offline default and
// the yardstick a reasoning model should beat ("did anything move?", "did it just fade?").
#include "models/baselines/baselines.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "vmeval/core/error.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace vmeval::baselines {

namespace {

struct Settings {
    int frames;
    double fps;
};

Settings read_settings(const registry::ModelInfo& model, const Params& params) {
    params.expect_only({"frames", "fps"}, model.name);
    int default_frames = model.defaults.frames > 0 ? model.defaults.frames : 16;
    double default_fps = model.defaults.fps > 0 ? model.defaults.fps : 8.0;
    return {params.get_int("frames", default_frames, 1, 1000),
            params.get_double("fps", default_fps, 0.1, 120.0)};
}

/// Shared by both baselines: writes `frames` frames produced by `frame_at(i)` and reports timings.
template <typename FrameAt>
GenerationResult write_clip(const GenerationRequest& request, const Settings& s, FrameAt frame_at) {
    auto t0 = std::chrono::steady_clock::now();
    video::Mp4Writer writer(request.video_path, video::Mp4Options{s.fps});
    for (int i = 0; i < s.frames; ++i) {
        if (request.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
        writer.add(frame_at(i));
    }
    writer.finish();
    double encode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const video::Image& first = *request.first_frame;
    GenerationResult result;
    result.parameters = {{"width", first.width},
                         {"height", first.height},
                         {"frames", s.frames},
                         {"fps", s.fps},
                         {"duration_s", s.frames / s.fps}};
    result.phases.emplace_back("encode", encode_s);
    return result;
}

class StillBaseline final : public ModelWrapper {
public:
    explicit StillBaseline(Settings s) : settings_(s) {}
    GenerationResult generate(const GenerationRequest& request) override {
        return write_clip(request, settings_,
                          [&](int) -> const video::Image& { return *request.first_frame; });
    }

private:
    Settings settings_;
};

class CrossfadeBaseline final : public ModelWrapper {
public:
    explicit CrossfadeBaseline(Settings s) : settings_(s) {}
    bool needs_final_frame() const override { return true; }

    GenerationResult generate(const GenerationRequest& request) override {
        if (request.final_frame == nullptr) {
            throw Error(ErrorCode::InvalidQuestion,
                        "baseline-crossfade needs final_frame.png beside first_frame.png");
        }
        const video::Image& a = *request.first_frame;
        // The goal image is brought to the first frame's size so every frame has one size.
        video::Image b = video::resize(*request.final_frame, a.width, a.height);
        video::Image frame(a.width, a.height);
        const int n = settings_.frames;
        auto result = write_clip(request, settings_, [&](int i) -> const video::Image& {
            double t = n > 1 ? static_cast<double>(i) / (n - 1) : 1.0;
            for (size_t k = 0; k < frame.rgb.size(); ++k) {
                double v = (1.0 - t) * a.rgb[k] + t * b.rgb[k];
                frame.rgb[k] = static_cast<std::uint8_t>(std::lround(v));
            }
            return frame;
        });
        result.parameters["blend"] = "linear";
        return result;
    }

private:
    Settings settings_;
};

}  // namespace

std::unique_ptr<ModelWrapper> make_baseline(const registry::ModelInfo& model, const Params& params) {
    std::string name = model.name;
    Settings s = read_settings(model, params);
    if (name == "baseline-still") return std::make_unique<StillBaseline>(s);
    if (name == "baseline-crossfade") return std::make_unique<CrossfadeBaseline>(s);
    throw Error(ErrorCode::Internal, "no baseline named " + name);
}

}  // namespace vmeval::baselines
