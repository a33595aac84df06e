// The encoders on a GPU (skipped without one): fp32 against the CPU goldens, and the reduced
// precisions the pipelines run in (bf16; fp16 with "wo" kept in fp32) staying finite and close.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "models/torch/encoders/clip_vision.hpp"
#include "models/torch/encoders/t5_encoder.hpp"
#include "torch/support/golden.hpp"

namespace vmeval::enc {
namespace {

using testing::golden_dir;
using testing::load_tensors;

TEST(EncodersOnGPU, T5AndUMT5InEveryDtype_CUDA) {
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    const at::Device cuda(at::kCUDA, 0);
    for (const char* name : {"t5", "umt5"}) {
        SCOPED_TRACE(name);
        auto io = load_tensors(dir / (std::string(name) + "_io.safetensors"));
        auto folder = dir / name / "text_encoder";
        auto want = io["last_hidden_state"];
        // fp32 on the GPU: different kernels, same arithmetic (TF32 is off for ATen matmuls).
        auto fp32 = T5Encoder::load(folder, cuda, at::kFloat);
        auto got = fp32->forward(io["input_ids"], io["attention_mask"]).cpu();
        EXPECT_TENSOR_NEAR(got, want, 1e-4, 1e-3);
        for (auto dtype : {at::kBFloat16, at::kHalf}) {
            SCOPED_TRACE(c10::toString(dtype));
            auto low = T5Encoder::load(folder, cuda, dtype);
            auto out = low->forward(io["input_ids"], io["attention_mask"]).to(at::kFloat).cpu();
            EXPECT_TRUE(at::isfinite(out).all().item<bool>());
            auto c = testing::compare(out, want, 5e-2, 5e-2);
            EXPECT_GT(c.cosine, 0.999) << c.text;
        }
    }
}

TEST(EncodersOnGPU, CLIPVision_CUDA) {
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    const at::Device cuda(at::kCUDA, 0);
    auto io = load_tensors(dir / "clip_io.safetensors");
    auto encoder = CLIPVisionEncoder::load(dir / "clip/image_encoder", cuda, at::kFloat);
    auto out = encoder->forward(io["pixel_values"].to(cuda));
    EXPECT_TENSOR_NEAR(out.image_embeds.cpu(), io["image_embeds"], 1e-4, 1e-3);
    auto wan = load_tensors(dir / "clip_wan_io.safetensors");
    auto tower = CLIPVisionEncoder::load(dir / "clip_wan/image_encoder", cuda, at::kBFloat16);
    auto penultimate =
        tower->penultimate_hidden_state(wan["pixel_values"].to(cuda)).to(at::kFloat).cpu();
    auto c = testing::compare(penultimate, wan["penultimate"], 5e-2, 5e-2);
    EXPECT_GT(c.cosine, 0.999) << c.text;
}

}  // namespace
}  // namespace vmeval::enc
