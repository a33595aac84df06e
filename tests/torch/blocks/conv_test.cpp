// Causal and plain 3D convolutions, SVD's resnet blocks, resamplers and AlphaBlender against
// diffusers (goldens: blocks).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/torch/blocks/causal_conv.hpp"
#include "models/torch/blocks/resnet.hpp"
#include "torch/blocks/block_golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

using testing_blocks::Case;

// Convolution blocks in fp32 (two 3x3 convs, two group norms): 1e-5 absolute and relative.
constexpr double kTol = 1e-5;

TEST(CausalConv3d, MatchesWanCausalConv3dWithAndWithoutCache) {
    c10::InferenceMode guard;
    Case c("causal_conv");
    CausalConv3d conv(4, 6, {3, 3, 3}, {1, 1, 1}, {1, 1, 1});
    c.load(conv);
    EXPECT_BLOCK_NEAR(conv.forward(c["x"]), c["out"], kTol, kTol);
    EXPECT_BLOCK_NEAR(conv.forward(c["tail"], c["cache2"]), c["out_cache2"], kTol, kTol);
    EXPECT_BLOCK_NEAR(conv.forward(c["tail"], c["cache1"]), c["out_cache1"], kTol, kTol);

    Case t("causal_conv_time_only");
    CausalConv3d time_only(4, 4, {3, 1, 1}, {1, 1, 1}, {1, 0, 0});
    t.load(time_only);
    EXPECT_BLOCK_NEAR(time_only.forward(t["x"]), t["out"], kTol, kTol);
}

TEST(CausalConv3d, ChunkedEvaluationWithTheCacheEqualsOneFullPass) {
    c10::InferenceMode guard;
    Case c("causal_conv");
    CausalConv3d conv(4, 6, {3, 3, 3}, {1, 1, 1}, {1, 1, 1});
    c.load(conv);
    auto x = at::randn({1, 4, 9, 6, 6});
    auto full = conv.forward(x);
    // The Wan VAE's chunking: the first frame alone, then groups of four; also single frames.
    for (std::vector<int64_t> sizes : {std::vector<int64_t>{1, 4, 4}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 6}}) {
        std::optional<at::Tensor> cache;
        std::vector<at::Tensor> outs;
        int64_t start = 0;
        for (int64_t n : sizes) {
            outs.push_back(conv.forward_chunk(x.slice(2, start, start + n), cache));
            start += n;
        }
        EXPECT_BLOCK_NEAR(at::cat(outs, 2), full, kTol, kTol);
    }
    // Without the cache, chunks see zeros instead of their past: the result differs.
    auto no_cache = at::cat({conv.forward(x.slice(2, 0, 5)), conv.forward(x.slice(2, 5, 9))}, 2);
    EXPECT_FALSE(vmeval::testing::compare(no_cache, full, kTol, kTol).ok);
}

TEST(ResnetBlock2D, DefaultTimeEmbeddingWithShortcut) {
    c10::InferenceMode guard;
    Case c("resnet2d");
    ResnetBlock2DOptions o;
    o.in_channels = c.config["in"];
    o.out_channels = c.config["out"];
    o.temb_channels = c.config["temb"];
    o.groups = c.config["groups"];
    o.eps = c.config["eps"];
    ResnetBlock2D block(o);
    c.load(block);
    EXPECT_BLOCK_NEAR(block.forward(c["x"], c["temb"]), c["out"], kTol, kTol);
}

TEST(ResnetBlock2D, ScaleShiftAndNoTimeEmbedding) {
    c10::InferenceMode guard;
    Case c("resnet2d_scale_shift");
    ResnetBlock2DOptions o;
    o.in_channels = c.config["in"];
    o.temb_channels = c.config["temb"];
    o.groups = c.config["groups"];
    o.eps = c.config["eps"];
    o.time_embedding_norm = TimeEmbeddingNorm::ScaleShift;
    o.output_scale_factor = 2.0;
    ResnetBlock2D block(o);
    c.load(block);
    EXPECT_BLOCK_NEAR(block.forward(c["x"], c["temb"]), c["out"], kTol, kTol);

    Case n("resnet2d_no_temb");
    ResnetBlock2DOptions p;
    p.in_channels = n.config["in"];
    p.temb_channels = 0;
    ResnetBlock2D plain(p);
    n.load(plain);
    EXPECT_BLOCK_NEAR(plain.forward(n["x"], at::Tensor()), n["out"], kTol, kTol);
}

TEST(Resample2D, DownsampleConvPoolAndUpsampleInterpolateVariants) {
    c10::InferenceMode guard;
    {
        Case c("down_conv");
        Downsample2D m(32, true, 48, 1);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kTol, kTol);
    }
    {
        Case c("down_conv_pad0");
        Downsample2D m(32, true, 0, 0);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kTol, kTol);
    }
    {
        Case c("down_pool");
        Downsample2D m(32, false);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kTol, kTol);
    }
    {
        Case c("up_conv");
        Upsample2D m(32, true, 16);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kTol, kTol);
        EXPECT_BLOCK_NEAR(m.forward(c["x"], std::array<int64_t, 2>{13, 11}), c["out_sized"], kTol, kTol);
    }
    {
        Case c("up_plain");
        Upsample2D m(32, false);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], 0.0, 0.0);
    }
}

TEST(TemporalResnetBlock, WithAndWithoutShortcut) {
    c10::InferenceMode guard;
    for (const char* name : {"temporal_resnet", "temporal_resnet_same"}) {
        SCOPED_TRACE(name);
        Case c(name);
        TemporalResnetBlock block(c.config["in"], c.config["out"], c.config["temb"], c.config["eps"]);
        c.load(block);
        EXPECT_BLOCK_NEAR(block.forward(c["x"], c["temb"]), c["out"], kTol, kTol);
    }
}

TEST(AlphaBlender, LearnedWithImagesOn5DAnd3DAndLearned) {
    c10::InferenceMode guard;
    Case c("blend_images");
    AlphaBlender blend(c.config["alpha"], parse_merge_strategy(c.config["strategy"]));
    c.load(blend);
    EXPECT_BLOCK_NEAR(blend.forward(c["spatial"], c["temporal"], c["indicator"]), c["out"], 1e-6, 1e-6);
    EXPECT_BLOCK_NEAR(blend.forward(c["flat_spatial"], c["flat_temporal"], c["indicator"]), c["out_flat"], 1e-6,
                       1e-6);
    EXPECT_THROW(blend.forward(c["spatial"], c["temporal"]), Error);

    Case l("blend_learned");
    AlphaBlender learned(l.config["alpha"], parse_merge_strategy(l.config["strategy"]));
    l.load(learned);
    EXPECT_BLOCK_NEAR(learned.forward(l["spatial"], l["temporal"]), l["out"], 1e-6, 1e-6);
    EXPECT_THROW(parse_merge_strategy("mean"), Error);
}

TEST(SpatioTemporalResBlock, SVDResnetOverFramesWithImageFlags) {
    c10::InferenceMode guard;
    Case c("spatio_temporal");
    SpatioTemporalResBlockOptions o;
    o.in_channels = c.config["in"];
    o.out_channels = c.config["out"];
    o.temb_channels = c.config["temb"];
    o.eps = c.config["eps"];
    o.merge_factor = c.config["merge_factor"];
    SpatioTemporalResBlock block(o);
    c.load(block);
    EXPECT_BLOCK_NEAR(block.forward(c["x"], c["temb"], c["indicator"]), c["out"], kTol, kTol);
}

}  // namespace
}  // namespace vmeval::nn
