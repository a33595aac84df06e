// CLIP vision towers and the CLIP image processor against transformers (goldens/encoders.py).
#include "models/torch/encoders/clip_vision.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "models/torch/encoders/clip_image_processor.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::enc {
namespace {

using testing::golden_dir;
using testing::load_tensors;

constexpr double kAtol = 1e-5, kRtol = 1e-4;

using testing::expect_close;

TEST(CLIPVision, ProjectedImageEmbedsAndEveryHiddenState) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "clip_io.safetensors");
    auto encoder = CLIPVisionEncoder::load(dir / "clip/image_encoder");
    ASSERT_TRUE(encoder->config().with_projection);
    EXPECT_EQ(encoder->config().hidden_act, Activation::QuickGELU);
    auto out = encoder->forward(io["pixel_values"], /*all_hidden_states=*/true);
    expect_close("image_embeds", out.image_embeds, io["image_embeds"], kAtol, kRtol);
    expect_close("last_hidden_state", out.last_hidden_state, io["last_hidden_state"], kAtol, kRtol);
    ASSERT_EQ(out.hidden_states.size(), 3u);
    for (std::size_t i = 0; i < out.hidden_states.size(); ++i) {
        SCOPED_TRACE(i);
        auto name = "hidden_states." + std::to_string(i);
        expect_close(name, out.hidden_states[i], io[name], kAtol, kRtol);
    }
    auto penultimate = encoder->penultimate_hidden_state(io["pixel_values"]);
    expect_close("penultimate", penultimate, io["penultimate"], kAtol, kRtol);
}

TEST(CLIPVision, WanStyleTowerFromOldAndNewLayouts) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "clip_wan_io.safetensors");
    for (const char* folder : {"clip_wan", "clip_wan_v5"}) {
        SCOPED_TRACE(folder);
        auto encoder = CLIPVisionEncoder::load(dir / folder / "image_encoder");
        EXPECT_FALSE(encoder->config().with_projection);
        EXPECT_EQ(encoder->config().hidden_act, Activation::GELU);
        const std::string tag(folder);
        auto penultimate = encoder->penultimate_hidden_state(io["pixel_values"]);
        expect_close(tag + ".penultimate", penultimate, io["penultimate"], kAtol, kRtol);
        auto out = encoder->forward(io["pixel_values"]);
        EXPECT_FALSE(out.image_embeds.defined());
        EXPECT_TRUE(out.hidden_states.empty());
        expect_close(tag + ".pooler_output", out.pooled, io["pooler_output"], kAtol, kRtol);
        expect_close(tag + ".last_hidden_state", out.last_hidden_state, io["last_hidden_state"],
                     kAtol, kRtol);
    }
}

TEST(CLIPVision, KeysOutsideTheModelAreReported) {
    auto dir = golden_dir("encoders");
    // A projection checkpoint read as a bare tower: visual_projection is not silently dropped.
    auto config = CLIPVisionConfig::from(ConfigFile::load(dir / "clip/image_encoder/config.json"));
    config.with_projection = false;
    CLIPVisionEncoder bare(config);
    auto reader = CheckpointReader::open_component(dir / "clip/image_encoder");
    auto report =
        check_weights(bare, reader, CLIPVisionEncoder::load_options(reader, at::kCPU, at::kFloat));
    ASSERT_EQ(report.unexpected.size(), 1u) << report.summary();
    EXPECT_EQ(report.unexpected[0], "visual_projection.weight");
    EXPECT_TRUE(report.missing.empty()) << report.summary();
    // Only the recomputed position_ids buffer is ignored, under both layouts' names.
    auto legacy = CheckpointReader::open_component(dir / "clip_wan/image_encoder");
    ASSERT_TRUE(legacy.contains("vision_model.embeddings.position_ids"));
    CLIPVisionEncoder wan(
        CLIPVisionConfig::from(ConfigFile::load(dir / "clip_wan/image_encoder/config.json")));
    EXPECT_TRUE(
        check_weights(wan, legacy, CLIPVisionEncoder::load_options(legacy, at::kCPU, at::kFloat))
            .ok());
    EXPECT_FALSE(check_weights(wan, legacy).ok()) << "without the options the buffer is unexpected";
}

TEST(CLIPImageProcessor, CropAndNormalizeExactlyResizeWithinOneGreyLevel) {
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "clip_preprocess.safetensors");
    auto config = CLIPImageProcessorConfig::from(
        ConfigFile::load(dir / "clip/feature_extractor/preprocessor_config.json"));
    EXPECT_EQ(config.shortest_edge, 32);
    EXPECT_EQ(config.crop_height, 32);
    EXPECT_DOUBLE_EQ(config.image_std[2], 0.27577711);
    // 40x32 already has the short side at 32: no resampling, so only crop/rescale/normalize act.
    auto exact = clip_preprocess(io["exact"], config);
    expect_close("exact_pixel_values", exact, io["exact_pixel_values"], 1e-6, 1e-6);
    // The normalize step alone, on the same crop given as [0, 1] floats.
    auto crop = io["exact"].slice(0, 4, 36).permute({2, 0, 1}).unsqueeze(0).to(at::kDouble) / 255.0;
    expect_close("normalize_only", clip_normalize(crop.to(at::kFloat), config),
                 io["exact_pixel_values"], 1e-6, 1e-6);
    // 45x60 is resized to 32x42 (bicubic, antialiased). PIL rounds its passes to uint8 and ATen's
    // uint8 path lands within one level: 1/255/std <= 0.0151 after normalization.
    auto got = clip_preprocess(io["landscape"], config);
    expect_close("landscape_pixel_values", got, io["landscape_pixel_values"], 0.0152, 0.0);
    EXPECT_LT((got - io["landscape_pixel_values"]).abs().mean().item<double>(), 3e-3);
}

}  // namespace
}  // namespace vmeval::enc
