// SDPA, the thin layers and the norms against diffusers/torch (goldens: blocks).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <limits>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "torch/blocks/block_golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

using testing_blocks::Case;

// Single ops in fp32: a few ulps of the output magnitude.
constexpr double kOpTol = 1e-5;

TEST(SDPA, MatchesExplicitSoftmaxForHeadDims64And128WithBothMaskKinds) {
    c10::InferenceMode guard;
    for (const char* name : {"sdpa_d64", "sdpa_d128"}) {
        SCOPED_TRACE(name);
        Case c(name);
        // Different query (7) and key/value (11) lengths.
        EXPECT_BLOCK_NEAR(sdpa(c["q"], c["k"], c["v"]), c["out_none"], kOpTol, kOpTol);
        EXPECT_BLOCK_NEAR(sdpa(c["q"], c["k"], c["v"], c["keep"]), c["out_bool"], kOpTol, kOpTol);
        EXPECT_BLOCK_NEAR(sdpa(c["q"], c["k"], c["v"], c["additive"]), c["out_additive"], kOpTol, kOpTol);
        // A boolean key-padding mask equals its additive -inf form.
        auto as_add = at::where(c["keep"], 0.0, -std::numeric_limits<float>::infinity()).to(at::kFloat);
        EXPECT_BLOCK_NEAR(sdpa(c["q"], c["k"], c["v"], as_add), c["out_bool"], kOpTol, kOpTol);
    }
}

TEST(Layers, LinearAndConvolutionsMatchTorch) {
    c10::InferenceMode guard;
    {
        Case c("linear");
        Linear m(6, 5);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kOpTol, kOpTol);
    }
    {
        Case c("linear_nobias");
        Linear m(6, 5, false);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kOpTol, kOpTol);
    }
    {
        Case c("conv2d");
        Conv2d m(3, 4, 3, 2, 1);
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kOpTol, kOpTol);
    }
    {
        Case c("conv3d");
        Conv3d m(Conv3dOptions{3, 4, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, true});
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kOpTol, kOpTol);
    }
}

TEST(Norms, RMSNormAffineAndPlain) {
    c10::InferenceMode guard;
    Case a("rms_affine"), p("rms_plain");
    RMSNorm affine(a.config["dim"], a.config["eps"]);
    RMSNorm plain(p.config["dim"], p.config["eps"], false);
    a.load(affine);
    p.load(plain);
    EXPECT_BLOCK_NEAR(affine.forward(a["x"]), a["out"], kOpTol, kOpTol);
    EXPECT_BLOCK_NEAR(plain.forward(p["x"]), p["out"], kOpTol, kOpTol);
    // Half-precision input: the mean square is taken in fp32, the result returns as bf16.
    auto half = plain.forward(p["x"].to(at::kBFloat16));
    EXPECT_EQ(half.scalar_type(), at::kBFloat16);
    EXPECT_BLOCK_NEAR(half.to(at::kFloat), p["out"], 2e-2, 2e-2);
}

TEST(Norms, LayerNormsWithAndWithoutAffineAndTheFp32Variant) {
    c10::InferenceMode guard;
    struct Variant {
        const char* name;
        bool affine;
        bool fp32;
    };
    for (auto v : {Variant{"fp32_ln_plain", false, true}, Variant{"fp32_ln_affine", true, true},
                   Variant{"ln_affine", true, false}, Variant{"ln_plain", false, false}}) {
        SCOPED_TRACE(v.name);
        Case c(v.name);
        LayerNorm m(LayerNormOptions{c.config["dim"], c.config["eps"], v.affine, true, v.fp32});
        c.load(m);
        EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kOpTol, kOpTol);
        if (v.fp32) {
            // FP32LayerNorm hands back the input dtype after computing in fp32.
            auto half = m.forward(c["x"].to(at::kBFloat16));
            EXPECT_EQ(half.scalar_type(), at::kBFloat16);
            EXPECT_BLOCK_NEAR(half.to(at::kFloat), c["out"], 5e-2, 2e-2);
        }
    }
}

TEST(Norms, GroupNorm32Groups) {
    c10::InferenceMode guard;
    Case c("group_norm");
    GroupNorm m(c.config["groups"], c.config["channels"], c.config["eps"]);
    c.load(m);
    EXPECT_BLOCK_NEAR(m.forward(c["x"]), c["out"], kOpTol, kOpTol);
    EXPECT_THROW(GroupNorm(32, 48), Error);
}

TEST(Norms, ModulateGateAndScaleShiftTable) {
    c10::InferenceMode guard;
    auto x = at::randn({2, 3, 4});
    auto shift = at::randn({2, 1, 4}), scale = at::randn({2, 1, 4}), gate = at::randn({2, 1, 4});
    EXPECT_BLOCK_NEAR(modulate(x, shift, scale), x * (1 + scale) + shift, 0.0, 0.0);
    auto y = at::randn({2, 3, 4});
    EXPECT_BLOCK_NEAR(gated_residual(x, y, gate), x + y * gate, 1e-7, 0.0);
    // bf16 activations with an fp32 table: the sum happens in fp32, the result returns as bf16.
    EXPECT_EQ(modulate(x.to(at::kBFloat16), shift, scale).scalar_type(), at::kBFloat16);

    auto table = at::randn({1, 6, 4});
    auto temb = at::randn({2, 6, 4});
    auto parts = scale_shift_chunks(table, temb);
    ASSERT_EQ(parts.size(), 6u);
    EXPECT_EQ(parts[2].sizes(), (std::vector<int64_t>{2, 1, 4}));
    EXPECT_BLOCK_NEAR(parts[4].squeeze(1), table[0][4] + temb.select(1, 4), 0.0, 0.0);
    auto per_token = scale_shift_chunks(table, at::randn({2, 3, 6, 4}));
    EXPECT_EQ(per_token[0].sizes(), (std::vector<int64_t>{2, 3, 4}));
}

}  // namespace
}  // namespace vmeval::nn
