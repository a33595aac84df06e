// The whole StableVideoDiffusionPipeline against diffusers: 2 guided EDM Euler steps on the tiny
// pipeline, from explicit initial latents (compared step by step) and from a seed alone (the
// noise-augmentation and latent draws must follow torch's CPU generator).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <iostream>

#include "models/svd/pipeline.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace {

/// EXPECT_TENSOR_NEAR that also prints the closeness figures, so CI logs show the margins.
void expect_near(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol) {
    vmeval::testing::expect_close("tensor", actual, expected, atol, rtol);
}

using vmeval::testing::golden_dir;
using vmeval::testing::load_json;
using vmeval::testing::load_tensors;

vmeval::svd::Settings settings(const nlohmann::json& run) {
    vmeval::svd::Settings s;
    s.width = run["width"];
    s.height = run["height"];
    s.frames = run["frames"];
    s.steps = run["steps"];
    s.fps = run["fps"];
    s.motion_bucket_id = run["motion_bucket_id"];
    s.noise_aug_strength = run["noise_aug_strength"];
    s.min_guidance = run["min_guidance"];
    s.max_guidance = run["max_guidance"];
    s.decode_chunk_size = run["decode_chunk_size"];
    return s;
}

TEST(SvdPipeline, ExplicitLatentsGiveDiffusersStepsAndFrames) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto run = load_json(dir / "run.json");
    auto pipe = vmeval::svd::Pipeline::load(dir / "pipeline", vmeval::nn::Placement{});
    auto image = load_tensors(dir / "image_encoder_io.safetensors")["image"];
    auto golden = load_tensors(dir / "pipeline_latents.safetensors");
    auto gen = at::make_generator<at::CPUGeneratorImpl>(run["seed"].get<uint64_t>());
    std::vector<at::Tensor> steps;
    auto frames =
        (*pipe)(image, settings(run), gen, golden["latents"],
                [&](int, const at::Tensor& latents) { steps.push_back(latents.clone()); });
    ASSERT_EQ(steps.size(), 2u);
    for (std::size_t i = 0; i < steps.size(); ++i)
        // The first step works at sigma_max = 700 (latents in the thousands): float32 rounding
        // there leaves ~1e-4 in the result.
        expect_near(steps[i], golden["step." + std::to_string(i)], 5e-4, 1e-4);
    expect_near(frames, golden["frames"], 1e-4, 1e-4);
}

TEST(SvdPipeline, SeedAloneGivesDiffusersFrames) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto run = load_json(dir / "run.json");
    auto pipe = vmeval::svd::Pipeline::load(dir / "pipeline", vmeval::nn::Placement{});
    auto image = load_tensors(dir / "image_encoder_io.safetensors")["image"];
    auto golden = load_tensors(dir / "pipeline_seeded.safetensors");
    auto gen = at::make_generator<at::CPUGeneratorImpl>(run["seed"].get<uint64_t>());
    auto frames = (*pipe)(image, settings(run), gen);
    expect_near(frames, golden["frames"], 1e-4, 1e-4);
}

TEST(SvdPipeline, SettingsTheModelCannotTakeAreRejected) {
    auto dir = golden_dir("svd");
    auto pipe = vmeval::svd::Pipeline::load(dir / "pipeline", vmeval::nn::Placement{});
    vmeval::svd::Settings s;
    s.width = 33;  // the tiny VAE halves the size
    s.height = 32;
    EXPECT_THROW(pipe->check(s), vmeval::Error);
    s.width = 32;
    s.decode_chunk_size = 0;
    EXPECT_THROW(pipe->check(s), vmeval::Error);
}

}  // namespace
