// The `svd` ModelWrapper called directly (the backend module's registration aside): params, the
// seeded run, the MP4 it writes and what it reports.
#include "models/svd/svd_model.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include "support/testkit.hpp"
#include "torch/support/golden.hpp"
#include "torch/support/video_check.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/video/frame_reader.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace {

using vmeval::testing::golden_dir;
using vmeval::testing::load_json;
using vmeval::testing::load_tensors;

vmeval::Params golden_params(const nlohmann::json& run, const std::filesystem::path& weights) {
    vmeval::Params p;
    for (const char* key :
         {"width", "height", "frames", "steps", "fps", "motion_bucket_id", "noise_aug_strength",
          "min_guidance", "max_guidance", "decode_chunk_size"})
        p.set(key, run[key].dump());
    p.set("weights", weights.string());
    p.set("device", "cpu");
    p.set("precision", "fp32");
    return p;
}

TEST(SvdModel, SeededGenerateWritesDiffusersFrames) {
    auto dir = golden_dir("svd");
    auto run = load_json(dir / "run.json");
    const auto* info = vmeval::registry::find_model("svd");
    ASSERT_NE(info, nullptr);
    auto model = vmeval::svd::make_svd(*info, golden_params(run, dir / "pipeline"));
    EXPECT_EQ(model->max_concurrency(), 1);

    vmeval::testkit::TempDir tmp;
    auto image = vmeval::video::load_png(dir / "image.png");
    vmeval::GenerationRequest request;
    request.first_frame = &image;
    request.seed = run["seed"].get<uint64_t>();
    request.video_path = tmp.path() / "video.mp4";
    auto result = model->generate(request);

    vmeval::testing::expect_video_matches_frames(
        request.video_path, load_tensors(dir / "pipeline_seeded.safetensors")["frames_u8"],
        load_json(dir / "run.json")["fps"].get<double>(), tmp.path());
    const int frames = run["frames"];
    std::vector<int> indices;
    for (int i = 0; i < frames; ++i) indices.push_back(i);
    auto decoded = vmeval::video::read_frames(request.video_path, indices);

    EXPECT_EQ(result.parameters["motion_bucket_id"], run["motion_bucket_id"]);
    EXPECT_EQ(result.parameters["frames"], frames);
    EXPECT_EQ(result.parameters["decode_chunk_size"], run["decode_chunk_size"]);
    EXPECT_EQ(result.resources["device"], "cpu");
    EXPECT_EQ(result.resources["precision"], "fp32");
    EXPECT_GT(result.resources["peak_memory_bytes"].get<uint64_t>(), 0u);
    std::vector<std::string> phases;
    for (const auto& [name, seconds] : result.phases) {
        phases.push_back(name);
        EXPECT_GE(seconds, 0.0);
    }
    EXPECT_EQ(phases, (std::vector<std::string>{"encode", "denoise", "decode", "write"}));

    // Same seed, same video.
    auto again_path = tmp.path() / "again.mp4";
    request.video_path = again_path;
    model->generate(request);
    auto again = vmeval::video::read_frames(again_path, indices);
    for (int i = 0; i < frames; ++i)
        EXPECT_EQ(again[static_cast<std::size_t>(i)].rgb, decoded[static_cast<std::size_t>(i)].rgb);
}

TEST(SvdModel, CancelStopsBetweenSteps) {
    auto dir = golden_dir("svd");
    auto run = load_json(dir / "run.json");
    auto model = vmeval::svd::make_svd(*vmeval::registry::find_model("svd"),
                                       golden_params(run, dir / "pipeline"));
    vmeval::testkit::TempDir tmp;
    auto image = vmeval::video::load_png(dir / "image.png");
    std::atomic<bool> cancel{true};
    vmeval::GenerationRequest request;
    request.first_frame = &image;
    request.cancel = &cancel;
    request.video_path = tmp.path() / "video.mp4";
    try {
        model->generate(request);
        FAIL() << "expected Cancelled";
    } catch (const vmeval::Error& e) {
        EXPECT_EQ(e.code(), vmeval::ErrorCode::Cancelled);
    }
}

TEST(SvdModel, UnknownParamsAndMissingWeightsAreRejected) {
    const auto* info = vmeval::registry::find_model("svd");
    vmeval::Params typo;
    typo.set("motion_bucket", "3");
    try {
        vmeval::svd::make_svd(*info, typo);
        FAIL() << "expected a usage error";
    } catch (const vmeval::Error& e) {
        EXPECT_NE(std::string(e.what()).find("motion_bucket"), std::string::npos) << e.what();
    }
    vmeval::testkit::TempDir empty;
    vmeval::Params missing;
    missing.set("weights", empty.path().string());
    missing.set("device", "cpu");
    EXPECT_THROW(vmeval::svd::make_svd(*info, missing), vmeval::Error);
}

}  // namespace
