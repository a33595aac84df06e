// Each Stable Video Diffusion component against diffusers on the tiny random-weight pipeline of
// tests/reference/goldens/svd.py, loaded through the real config parsing and weight loader.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <iostream>

#include "models/svd/image_resize.hpp"
#include "models/torch/runtime/pil_resize.hpp"
#include "models/svd/pipeline.hpp"
#include "models/svd/unet.hpp"
#include "models/svd/vae.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace {

/// EXPECT_TENSOR_NEAR that also prints the closeness figures, so CI logs show the margins.
void expect_near(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol) {
    vmeval::testing::expect_close("tensor", actual, expected, atol, rtol);
}

using vmeval::testing::golden_dir;
using vmeval::testing::load_tensors;

TEST(SvdUNet, OneForwardMatchesDiffusers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto unet = vmeval::svd::UNet::load(dir / "pipeline" / "unet");
    EXPECT_EQ(unet->config().block_out_channels, (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(unet->config().num_attention_heads, (std::vector<int64_t>{2, 4}));
    auto io = load_tensors(dir / "unet_io.safetensors");
    auto out = unet->forward(io["sample"], io["timestep"], io["encoder_hidden_states"],
                             io["added_time_ids"]);
    // Several resnet/transformer blocks deep in fp32: multi-block tolerance.
    expect_near(out, io["out"], 1e-4, 1e-4);
}

TEST(SvdVae, EncodeModeMatchesDiffusers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto vae = vmeval::svd::VAE::load(dir / "pipeline" / "vae");
    EXPECT_EQ(vae->config().spatial_factor(), 2);
    auto io = load_tensors(dir / "vae_io.safetensors");
    expect_near(vae->encode(io["image"]), io["mode"], 1e-4, 1e-4);
}

TEST(SvdVae, DecodeWholeAndChunkedMatchDiffusers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto vae = vmeval::svd::VAE::load(dir / "pipeline" / "vae");
    auto io = load_tensors(dir / "vae_io.safetensors");
    const int64_t frames = io["latents"].size(0);
    expect_near(vae->decode(io["latents"], frames), io["decoded"], 1e-4, 1e-4);
    expect_near(vae->decode_chunked(io["latents"], 2), io["decoded_chunked"], 1e-4, 1e-4);
    // The chunks really differ from one whole clip: the temporal layers see their chunk only.
    EXPECT_GT((io["decoded"] - io["decoded_chunked"]).abs().max().item<double>(), 1e-3);
    EXPECT_THROW(vae->decode(io["latents"], 2), vmeval::Error);
}

TEST(SvdVae, Fp16VariantFilesAreReadWhenAskedForAndPresent) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto io = load_tensors(dir / "vae_io.safetensors");
    // The folder holds only ".fp16." files: without the variant there is nothing to read.
    EXPECT_THROW(vmeval::svd::VAE::load(dir / "vae_fp16"), vmeval::Error);
    auto half = vmeval::svd::VAE::load(dir / "vae_fp16", at::kCPU, at::kFloat, "fp16");
    // fp16-rounded weights computed in fp32: close, not equal.
    auto out = half->encode(io["image"]);
    expect_near(out, io["mode"], 2e-2, 2e-2);
    EXPECT_GT((out - io["mode"]).abs().max().item<double>(), 0.0);
    // A variant that is absent falls back to the full-precision files.
    auto full = vmeval::svd::VAE::load(dir / "pipeline" / "vae", at::kCPU, at::kFloat, "fp16");
    expect_near(full->encode(io["image"]), io["mode"], 1e-4, 1e-4);
}

TEST(SvdImageEncoder, EmbedsOfThePipelinePreprocessingMatchDiffusers) {
    c10::InferenceMode guard;
    auto dir = golden_dir("svd");
    auto pipe = vmeval::svd::Pipeline::load(dir / "pipeline", vmeval::nn::Placement{});
    auto io = load_tensors(dir / "image_encoder_io.safetensors");
    auto embeds = pipe->encode_image(io["image"]);
    expect_near(embeds, io["image_embeds"], 1e-5, 1e-4);
}

TEST(SvdResize, PilLanczosMatchesPillow) {
    auto io = load_tensors(golden_dir("svd") / "resize.safetensors");
    for (const char* key : {"pil_20x27", "pil_45x70"}) {
        const auto& want = io[key];
        auto got = vmeval::nn::pil_resize(io["image"], want.size(0), want.size(1), vmeval::nn::PilFilter::Lanczos);
        ASSERT_EQ(got.sizes(), want.sizes()) << key;
        // Pillow's fixed-point arithmetic is reproduced: at most one level off, almost always
        // equal.
        auto diff = (got.to(at::kInt) - want.to(at::kInt)).abs();
        EXPECT_LE(diff.max().item<int>(), 1) << key;
        EXPECT_LT(diff.to(at::kFloat).mean().item<double>(), 0.01) << key;
    }
    auto same =
        vmeval::nn::pil_resize(io["image"], io["image"].size(0), io["image"].size(1),
                               vmeval::nn::PilFilter::Lanczos);
    EXPECT_TRUE(at::equal(same, io["image"]));
}

TEST(SvdResize, AntialiasedResizeMatchesDiffusers) {
    auto io = load_tensors(golden_dir("svd") / "resize.safetensors");
    for (const char* name : {"down", "up"}) {
        auto got =
            vmeval::svd::resize_with_antialiasing(io[std::string("aa_") + name + "_in"], 224, 224);
        expect_near(got, io[std::string("aa_") + name + "_out"], 1e-5, 1e-5);
    }
}

TEST(SvdConfig, BadUNetConfigIsRejectedWithTheKey) {
    vmeval::nn::ConfigFile file(
        nlohmann::json{
            {"block_out_channels", {32, 64}},
            {"num_attention_heads", {2, 3}},
            {"down_block_types", {"CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"}},
            {"up_block_types", {"UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"}}},
        "unet/config.json");
    try {
        vmeval::svd::UNetConfig::from(file);
        FAIL() << "expected an error";
    } catch (const vmeval::Error& e) {
        EXPECT_NE(std::string(e.what()).find("num_attention_heads"), std::string::npos) << e.what();
    }
}

}  // namespace
