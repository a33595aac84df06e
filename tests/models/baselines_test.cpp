// The two baselines through the public registry: what they write and which parameters they take.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::GenerationRequest;
using vmeval::Params;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_test_png;
namespace fs = std::filesystem;
namespace registry = vmeval::registry;
namespace video = vmeval::video;

const registry::ModelInfo& catalog(const char* name) {
    const registry::ModelInfo* m = registry::find_model(name);
    if (m == nullptr) throw std::runtime_error(std::string("catalog lacks ") + name);
    return *m;
}

std::unique_ptr<vmeval::ModelWrapper> make(const char* name, std::vector<std::string> params = {}) {
    return registry::create_model(catalog(name), Params::parse(params));
}

/// Expects create_model to refuse `params` with Error(Usage); returns the message.
std::string usage_error(const char* name, std::vector<std::string> params) {
    try {
        make(name, std::move(params));
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Usage) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
}

/// Decoded images and a request for one generation into `dir`/out.mp4.
struct Inputs {
    video::Image first;
    video::Image last;
    GenerationRequest request;
    Inputs(const fs::path& dir, int w, int h, bool with_final, int fw = 0, int fh = 0) {
        write_test_png(dir / "first.png", w, h, 0);
        first = video::load_png(dir / "first.png");
        request.first_frame = &first;
        request.first_frame_path = dir / "first.png";
        if (with_final) {
            write_test_png(dir / "final.png", fw > 0 ? fw : w, fh > 0 ? fh : h, 3);
            last = video::load_png(dir / "final.png");
            request.final_frame = &last;
            request.final_frame_path = dir / "final.png";
        }
        request.prompt = "Move the square.";
        request.video_path = dir / "out.mp4";
    }
};

}  // namespace

TEST(BaselineStill, DefaultsToSixteenFramesAtEightFpsOfInputSize) {
    TempDir dir;
    Inputs in(dir.path(), 64, 48, false);
    auto model = make("baseline-still");
    EXPECT_FALSE(model->needs_final_frame());
    vmeval::GenerationResult result = model->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.codec, "h264");
    EXPECT_EQ(p.frames, 16);
    EXPECT_NEAR(p.fps, 8.0, 1e-6);
    EXPECT_NEAR(p.duration_s, 2.0, 1e-6);
    EXPECT_EQ(p.width, 64);
    EXPECT_EQ(p.height, 48);
    EXPECT_EQ(result.parameters["frames"], 16);
    EXPECT_DOUBLE_EQ(result.parameters["fps"].get<double>(), 8.0);
    EXPECT_EQ(result.parameters["width"], 64);
    EXPECT_EQ(result.parameters["height"], 48);
    bool has_encode = false;
    for (const auto& [name, s] : result.phases) has_encode |= name == "encode" && s >= 0;
    EXPECT_TRUE(has_encode);
}

TEST(BaselineStill, FramesAndFpsParams) {
    TempDir dir;
    Inputs in(dir.path(), 32, 32, false);
    auto model = make("baseline-still", {"frames=5", "fps=12"});
    model->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.frames, 5);
    EXPECT_NEAR(p.fps, 12.0, 1e-6);
    EXPECT_NEAR(p.duration_s, 5.0 / 12.0, 1e-3);
}

TEST(BaselineStill, FractionalFpsIsKept) {
    TempDir dir;
    Inputs in(dir.path(), 32, 32, false);
    auto model = make("baseline-still", {"frames=3", "fps=7.5"});
    auto result = model->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.frames, 3);
    EXPECT_NEAR(p.fps, 7.5, 1e-6);
    EXPECT_DOUBLE_EQ(result.parameters["fps"].get<double>(), 7.5);
}

TEST(BaselineStill, SingleFrameWorks) {
    TempDir dir;
    Inputs in(dir.path(), 32, 32, false);
    make("baseline-still", {"frames=1"})->generate(in.request);
    EXPECT_EQ(video::probe_video(in.request.video_path).frames, 1);
}

TEST(BaselineStill, OddSizeIsRoundedUpToEven) {
    TempDir dir;
    Inputs in(dir.path(), 33, 25, false);
    make("baseline-still", {"frames=2"})->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.width, 34);
    EXPECT_EQ(p.height, 26);
}

TEST(BaselineStill, IgnoresFinalFrameWhenGiven) {
    TempDir dir;
    Inputs in(dir.path(), 32, 32, true, 64, 64);
    make("baseline-still", {"frames=2"})->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.width, 32);
    EXPECT_EQ(p.frames, 2);
}

TEST(BaselineStill, CancelledRequestThrowsCancelled) {
    TempDir dir;
    Inputs in(dir.path(), 32, 32, false);
    std::atomic<bool> cancel{true};
    in.request.cancel = &cancel;
    try {
        make("baseline-still")->generate(in.request);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    }
}

TEST(BaselineCrossfade, NeedsFinalFrame) {
    auto model = make("baseline-crossfade");
    EXPECT_TRUE(model->needs_final_frame());
    TempDir dir;
    Inputs in(dir.path(), 32, 32, false);
    try {
        model->generate(in.request);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidQuestion);
        EXPECT_NE(std::string(e.what()).find("final_frame.png"), std::string::npos) << e.what();
    }
}

TEST(BaselineCrossfade, WritesClipOfFirstFrameSize) {
    TempDir dir;
    Inputs in(dir.path(), 48, 32, true);
    auto result = make("baseline-crossfade")->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.frames, 16);
    EXPECT_NEAR(p.fps, 8.0, 1e-6);
    EXPECT_EQ(p.width, 48);
    EXPECT_EQ(p.height, 32);
    EXPECT_EQ(result.parameters["blend"], "linear");
}

TEST(BaselineCrossfade, FinalFrameOfOtherSizeIsResizedToFirst) {
    TempDir dir;
    Inputs in(dir.path(), 40, 30, true, 80, 20);
    make("baseline-crossfade", {"frames=4", "fps=12"})->generate(in.request);
    auto p = video::probe_video(in.request.video_path);
    EXPECT_EQ(p.width, 40);
    EXPECT_EQ(p.height, 30);
    EXPECT_EQ(p.frames, 4);
    EXPECT_NEAR(p.fps, 12.0, 1e-6);
}

TEST(BaselineCrossfade, SingleFrameWorks) {
    TempDir dir;
    Inputs in(dir.path(), 32, 32, true);
    make("baseline-crossfade", {"frames=1"})->generate(in.request);
    EXPECT_EQ(video::probe_video(in.request.video_path).frames, 1);
}

TEST(BaselineParams, UnknownKeyIsUsageErrorNamingKeyAndModel) {
    for (const char* name : {"baseline-still", "baseline-crossfade"}) {
        std::string msg = usage_error(name, {"frames=5", "steps=20"});
        EXPECT_NE(msg.find("steps"), std::string::npos) << msg;
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
    }
}

TEST(BaselineParams, OutOfRangeOrMalformedValuesAreUsageErrors) {
    for (const char* bad : {"frames=0", "frames=1001", "frames=-3", "frames=ten", "frames=2.5",
                            "fps=0", "fps=0.05", "fps=121", "fps=fast", "fps=nan"}) {
        std::string msg = usage_error("baseline-still", {bad});
        std::string key = std::string(bad).substr(0, std::string(bad).find('='));
        EXPECT_NE(msg.find(key), std::string::npos) << bad << " -> " << msg;
    }
}

TEST(BaselineParams, BoundsAreAccepted) {
    EXPECT_NO_THROW(make("baseline-still", {"frames=1", "fps=0.1"}));
    EXPECT_NO_THROW(make("baseline-still", {"frames=1000", "fps=120"}));
}

TEST(BaselineCatalog, BothBaselinesAreUsableWithoutSetup) {
    for (const char* name : {"baseline-still", "baseline-crossfade"}) {
        const auto& m = catalog(name);
        EXPECT_EQ(m.kind, registry::Kind::Baseline);
        auto a = registry::check_availability(m);
        EXPECT_TRUE(a.built) << name;
        EXPECT_TRUE(a.usable) << name;
        EXPECT_TRUE(a.missing.empty()) << name;
    }
}
