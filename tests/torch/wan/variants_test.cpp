// The pipeline variants against diffusers on tiny random-weight folders
// (tests/reference/goldens/wan_e2e.py), 2 UniPC steps with CFG from explicit latents:
// - Wan 2.2 TI2V-5B: expand_timesteps (the image latent as the first frame at timestep 0 per
//   token) with the Wan 2.2 VAE;
// - Morphic: the A14B pipeline with a LoRA in original Wan names merged into the high-noise expert
//   (diffusers loads it as a PEFT adapter) and the last frame conditioned too.
// Also the LoRA loader's refusals, and the resizes and sizing the presets apply to questions.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <iostream>

#include "models/torch/runtime/pil_resize.hpp"
#include "models/wan/lora.hpp"
#include "models/wan/pipeline.hpp"
#include "models/wan/transformer.hpp"
#include "models/wan/wan_model.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/video/image.hpp"

namespace {

namespace fs = std::filesystem;
using vmeval::testing::compare;
using vmeval::testing::golden_dir;
using vmeval::testing::load_json;
using vmeval::testing::load_tensors;
using vmeval::wan::I2VPipeline;
using vmeval::wan::I2VRequest;
using vmeval::wan::I2VSettings;

// As in pipeline_test.cpp: a few 1e-6 per component over encoders, 4 transformer passes, the
// scheduler and the VAE; the frames are in [0, 1].
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

/// The explicit runs' settings (wan_e2e.py explicit_run).
I2VSettings explicit_settings(int64_t size, bool two_experts) {
    I2VSettings s;
    s.height = s.width = size;
    s.num_frames = 5;
    s.steps = 2;
    s.guidance_scale = 4.0;
    if (two_experts) s.guidance_scale_2 = 3.0;
    s.max_sequence_length = 512;
    return s;
}

I2VRequest explicit_request(std::map<std::string, at::Tensor>& g) {
    I2VRequest r;
    r.image = g["image"];
    if (g.count("last_image")) r.last_image = g["last_image"];
    r.prompt = "A cat sits on the warm windowsill.";
    r.negative_prompt = "blurry, static";
    r.latents = g["latents"];
    return r;
}

TEST(WanVariants, Ti2vExpandTimestepsMatchesDiffusers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_e2e");
    auto pipe = I2VPipeline::load(dir / "pipeline_ti2v", {at::kCPU, at::kFloat});
    EXPECT_TRUE(pipe->expand_timesteps());
    EXPECT_FALSE(pipe->has_image_encoder());
    EXPECT_EQ(pipe->size_multiple(), 32);
    auto g = load_tensors(dir / "ti2v_io.safetensors");
    auto result = pipe->run(explicit_request(g), explicit_settings(64, false));
    EXPECT_TENSOR_NEAR(result.video, g["video"], kAtol, kRtol);
    std::cout << "ti2v video: " << compare(result.video, g["video"], kAtol, kRtol).text << "\n";
}

TEST(WanVariants, MorphicLoraAndLastFrameMatchDiffusers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_e2e");
    auto pipe = I2VPipeline::load(dir / "pipeline_a14b", {at::kCPU, at::kFloat});
    auto merged = pipe->merge_lora(dir / "morphic_lora.safetensors", 16.0);
    EXPECT_EQ(merged.modules, 2 * 2 * 4);  // 2 blocks x (self, cross) x (q, k, v, o)
    EXPECT_EQ(merged.rank, 4);
    EXPECT_DOUBLE_EQ(merged.scale, 4.0);
    auto g = load_tensors(dir / "morphic_io.safetensors");
    ASSERT_TRUE(g.count("last_image"));
    auto result = pipe->run(explicit_request(g), explicit_settings(32, true));
    EXPECT_TENSOR_NEAR(result.video, g["video"], kAtol, kRtol);
    std::cout << "morphic video: " << compare(result.video, g["video"], kAtol, kRtol).text << "\n";
}

TEST(WanVariants, MorphicWithoutTheLoraOrTheLastFrameDiffers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_e2e");
    auto g = load_tensors(dir / "morphic_io.safetensors");
    {
        auto plain = I2VPipeline::load(dir / "pipeline_a14b", {at::kCPU, at::kFloat});
        auto result = plain->run(explicit_request(g), explicit_settings(32, true));
        EXPECT_FALSE(compare(result.video, g["video"], kAtol, kRtol).ok) << "the LoRA changed nothing";
    }
    auto pipe = I2VPipeline::load(dir / "pipeline_a14b", {at::kCPU, at::kFloat});
    pipe->merge_lora(dir / "morphic_lora.safetensors", 16.0);
    auto request = explicit_request(g);
    request.last_image.reset();
    auto result = pipe->run(request, explicit_settings(32, true));
    EXPECT_FALSE(compare(result.video, g["video"], kAtol, kRtol).ok) << "the last frame changed nothing";
}

TEST(WanVariants, LoraWithKeysForAnotherModelIsRefusedUntouched) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_e2e");
    auto model = vmeval::wan::Transformer::load(dir / "pipeline_a14b" / "transformer");
    auto before = model->named_tensors().front().tensor->clone();
    try {
        vmeval::wan::merge_lora(*model, dir / "stray_lora.safetensors", 16.0);
        FAIL() << "merged a LoRA with an unknown key";
    } catch (const vmeval::Error& e) {
        EXPECT_NE(std::string(e.what()).find("blocks.0.self_attn.norm_q.lora_A.weight"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("stray_lora.safetensors"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(at::equal(*model->named_tensors().front().tensor, before));
}

TEST(WanVariants, Ti2vRefusesALastFrame) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_e2e");
    auto pipe = I2VPipeline::load(dir / "pipeline_ti2v", {at::kCPU, at::kFloat});
    auto g = load_tensors(dir / "ti2v_io.safetensors");
    auto request = explicit_request(g);
    request.last_image = g["image"];
    EXPECT_THROW(pipe->run(request, explicit_settings(64, false)), vmeval::Error);
}

TEST(WanPresets, AreaSizeKeepsTheAspectWithinTheBudget) {
    using vmeval::wan::area_size;
    using Size = std::pair<int64_t, int64_t>;
    // 832 x 480 budget, 16 px multiple (Wan 2.1 / A14B).
    EXPECT_EQ(area_size(832, 480, 832 * 480, 16), Size(832, 480));
    EXPECT_EQ(area_size(1000, 1000, 832 * 480, 16), Size(624, 624));
    EXPECT_EQ(area_size(480, 832, 832 * 480, 16), Size(480, 832));
    // TI2V: 1280 x 704 budget, 32 px multiple.
    EXPECT_EQ(area_size(1280, 720, 1280 * 704, 32), Size(1248, 704));
    EXPECT_THROW(area_size(4000, 10, 64 * 64, 32), vmeval::Error);
}

TEST(WanPresets, BicubicResizeIsPils) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan_e2e");
    for (const std::string name : {"e2e_i2v", "e2e_ti2v"}) {
        auto png = vmeval::video::load_png(dir / (name + "_first.png"));
        auto image = at::from_blob(png.rgb.data(), {png.height, png.width, 3}, at::kByte).clone();
        auto want = load_tensors(dir / (name + ".safetensors"))["resized"];
        auto got = vmeval::nn::pil_resize(image, want.size(0), want.size(1), vmeval::nn::PilFilter::Bicubic);
        EXPECT_TRUE(at::equal(got, want)) << name << ": max diff "
                                          << (got.to(at::kInt) - want.to(at::kInt)).abs().max().item<int>();
    }
}

}  // namespace
