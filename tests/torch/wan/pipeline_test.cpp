// WanImageToVideoPipeline against diffusers on tiny random-weight pipeline folders
// (tests/reference/goldens/wan_pipeline.py): Wan 2.1 I2V (umT5 + CLIP image tokens) and Wan 2.2
// A14B (two experts, guidance_scale_2), 2 UniPC steps with CFG, from explicit latents (final
// latents and the decoded video) and from a CPU generator seed.
#include "models/wan/pipeline.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <iostream>

#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace {

using vmeval::testing::compare;
using vmeval::testing::golden_dir;
using vmeval::testing::load_json;
using vmeval::testing::load_tensors;
using vmeval::wan::I2VPipeline;
using vmeval::wan::I2VRequest;
using vmeval::wan::I2VSettings;

// Text encoder, CLIP, VAE encode, 2 x 2 transformer passes, 2 UniPC steps and the VAE decode in
// fp32: errors of a few 1e-6 per component add up to ~1e-5; the latents are O(1).
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

I2VSettings settings_from(const nlohmann::json& j) {
    I2VSettings s;
    s.height = j.at("height").get<int64_t>();
    s.width = j.at("width").get<int64_t>();
    s.num_frames = j.at("num_frames").get<int64_t>();
    s.steps = j.at("steps").get<int>();
    s.guidance_scale = j.at("guidance_scale").get<double>();
    if (!j.at("guidance_scale_2").is_null())
        s.guidance_scale_2 = j.at("guidance_scale_2").get<double>();
    s.max_sequence_length = j.at("max_sequence_length").get<int64_t>();
    return s;
}

void check_pipeline(const std::string& name, bool expect_image_encoder, bool expect_two_experts) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_pipeline");
    auto pipe = I2VPipeline::load(dir / name, {at::kCPU, at::kFloat});
    EXPECT_EQ(pipe->has_image_encoder(), expect_image_encoder);
    EXPECT_EQ(pipe->has_second_expert(), expect_two_experts);
    auto g = load_tensors(dir / (name + "_io.safetensors"));
    auto j = load_json(dir / (name + "_io.json"));
    const auto settings = settings_from(j);

    I2VRequest request;
    request.image = g["image"];
    request.prompt = j.at("prompt").get<std::string>();
    request.negative_prompt = j.at("negative_prompt").get<std::string>();
    request.latents = g["latents"];
    auto result = pipe->run(request, settings);
    EXPECT_TENSOR_NEAR(result.latents, g["final_latents"], kAtol, kRtol);
    std::cout << name
              << " latents: " << compare(result.latents, g["final_latents"], kAtol, kRtol).text
              << "\n";
    EXPECT_TENSOR_NEAR(result.video, g["video"], kAtol, kRtol);
    std::cout << name << " video: " << compare(result.video, g["video"], kAtol, kRtol).text << "\n";
    // The denoiser must have moved the latents: a pipeline that skipped the loop would fail above
    // only through the goldens, so check the goldens themselves are not the start.
    EXPECT_GT((g["final_latents"] - g["latents"]).abs().max().item<double>(), 1e-2);

    request.latents.reset();
    request.seed = j.at("seed").get<uint64_t>();
    request.decode = false;
    auto seeded = pipe->run(request, settings);
    EXPECT_FALSE(seeded.video.defined());
    EXPECT_TENSOR_NEAR(seeded.latents, g["seeded_final_latents"], kAtol, kRtol);
    std::cout << name << " seeded: "
              << compare(seeded.latents, g["seeded_final_latents"], kAtol, kRtol).text << "\n";
}

TEST(WanI2VPipeline, Wan21MatchesDiffusers) { check_pipeline("pipeline", true, false); }

TEST(WanI2VPipeline, Wan22TwoExpertsMatchDiffusers) {
    check_pipeline("pipeline_a14b", false, true);
}

TEST(WanI2VPipeline, RejectsImageOfAnotherSize) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_pipeline");
    auto pipe = I2VPipeline::load(dir / "pipeline", {at::kCPU, at::kFloat});
    auto j = load_json(dir / "pipeline_io.json");
    auto settings = settings_from(j);
    I2VRequest request;
    request.image = at::zeros({settings.height + 16, settings.width, 3}, at::kByte);
    request.decode = false;
    EXPECT_THROW(pipe->run(request, settings), vmeval::Error);
}

TEST(WanI2VPipeline, GuidanceScale2NeedsTwoExperts) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_pipeline");
    auto pipe = I2VPipeline::load(dir / "pipeline", {at::kCPU, at::kFloat});
    auto settings = settings_from(load_json(dir / "pipeline_io.json"));
    settings.guidance_scale_2 = 2.0;
    I2VRequest request;
    request.image = at::zeros({settings.height, settings.width, 3}, at::kByte);
    request.decode = false;
    EXPECT_THROW(pipe->run(request, settings), vmeval::Error);
}

TEST(WanI2VPipeline, PromptsAreCleanedAsTheReferenceDoes) {
    // ftfy's quotes and widths, html.unescape twice, whitespace: the umT5 ids must equal those of
    // the cleaned prompt (tests/torch/tokenizers/prompt_clean_test.cpp covers the cleaning itself).
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_pipeline");
    auto pipe = I2VPipeline::load(dir / "pipeline", {at::kCPU, at::kFloat});
    auto raw = pipe->encode_prompt("  \xE2\x80\x9C" "A cat&amp;amp;dog\xE2\x80\x9D\n\tsit  ", 512);
    auto clean = pipe->encode_prompt("\"A cat&dog\" sit", 512);
    EXPECT_TRUE(at::equal(raw, clean));
    EXPECT_FALSE(at::equal(raw, pipe->encode_prompt("\"A cat dog\" sit", 512)));
}

}  // namespace
