// FeedForward, timestep embeddings and RoPE against diffusers (goldens: blocks).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/torch/blocks/embeddings.hpp"
#include "models/torch/blocks/feed_forward.hpp"
#include "models/torch/blocks/rope.hpp"
#include "torch/blocks/block_golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

using testing_blocks::Case;

constexpr double kOpTol = 1e-5;

TEST(FeedForward, EveryActivationOfDiffusers) {
    c10::InferenceMode guard;
    for (const char* name : {"ff_gelu", "ff_gelu_approximate", "ff_geglu", "ff_geglu_approximate", "ff_swiglu",
                             "ff_linear_silu", "ff_wan"}) {
        SCOPED_TRACE(name);
        Case c(name);
        FeedForwardOptions o;
        o.dim = c.config["dim"];
        o.mult = c.config.value("mult", 4);
        o.inner_dim = c.config.value("inner_dim", 0);
        o.dim_out = c.config.value("dim_out", 0);
        o.activation = parse_ff_activation(c.config["activation_fn"]);
        FeedForward ff(o);
        c.load(ff);
        EXPECT_BLOCK_NEAR(ff.forward(c["x"]), c["out"], kOpTol, kOpTol);
    }
    EXPECT_THROW(parse_ff_activation("relu2"), Error);
}

TEST(Timesteps, SinusoidalEmbeddingForBothConventions) {
    c10::InferenceMode guard;
    Case c("timesteps");
    for (const char* name : {"svd", "ddpm"}) {
        SCOPED_TRACE(name);
        const auto& j = c.config[name];
        TimestepsOptions o{j["embedding_dim"], j["flip_sin_to_cos"], j["downscale_freq_shift"], j["scale"],
                           j["max_period"]};
        // Arguments up to ~2000 rad: fp32 sin/cos of such arguments differ by a few ulps of 2000.
        EXPECT_BLOCK_NEAR(Timesteps(o).forward(c["t"]), c[name], 2e-4, 0.0);
    }
    EXPECT_THROW(timestep_embedding(at::zeros({2, 2}), TimestepsOptions{8}), Error);
}

TEST(TimestepEmbedding, SVDTemporalPositionEmbedding) {
    c10::InferenceMode guard;
    Case c("time_pos_embed");
    TimestepEmbeddingOptions o;
    o.in_channels = c.config["in_channels"];
    o.time_embed_dim = c.config["time_embed_dim"];
    o.out_dim = c.config["out_dim"];
    TimestepEmbedding m(o);
    c.load(m);
    Timesteps proj(TimestepsOptions{o.in_channels, true, 0.0});
    EXPECT_BLOCK_NEAR(m.forward(proj.forward(c["frames"])), c["out"], kOpTol, kOpTol);
}

TEST(TimestepEmbedding, ConditionProjectionAndPostActivation) {
    c10::InferenceMode guard;
    Case c("timestep_embedding_cond");
    TimestepEmbeddingOptions o;
    o.in_channels = c.config["in_channels"];
    o.time_embed_dim = c.config["time_embed_dim"];
    o.cond_proj_dim = c.config["cond_proj_dim"];
    o.post_act = parse_activation("silu");
    TimestepEmbedding m(o);
    c.load(m);
    auto cond = c["cond"];
    EXPECT_BLOCK_NEAR(m.forward(c["sample"], &cond), c["out"], kOpTol, kOpTol);
}

TEST(RoPE, OneDimensionalTablesAndRotationInRealAndComplexForms) {
    c10::InferenceMode guard;
    Case c("rope_1d");
    auto pos = at::arange(10);
    auto inter = rotary_1d(16, pos, 10000.0, true, at::kDouble);
    EXPECT_BLOCK_NEAR(inter.cos, c["cos_interleaved"], 1e-7, 0.0);
    EXPECT_BLOCK_NEAR(inter.sin, c["sin_interleaved"], 1e-7, 0.0);
    auto concat = rotary_1d(16, pos, 500.0, false, at::kFloat, 2.0, 1.5);
    EXPECT_BLOCK_NEAR(concat.cos, c["cos_concat"], 1e-6, 0.0);
    EXPECT_BLOCK_NEAR(concat.sin, c["sin_concat"], 1e-6, 0.0);
    auto cis = rotary_1d_complex(16, pos);
    EXPECT_BLOCK_NEAR(at::view_as_real(cis), c["cis_real"], 1e-6, 0.0);

    EXPECT_BLOCK_NEAR(apply_rotary(c["x"], inter.cos, inter.sin), c["rotated"], kOpTol, kOpTol);
    auto x_seq1 = c["x"].transpose(1, 2).contiguous();
    EXPECT_BLOCK_NEAR(apply_rotary(x_seq1, inter.cos, inter.sin, 1), c["rotated_seq1"], kOpTol, kOpTol);
    EXPECT_BLOCK_NEAR(apply_rotary_complex(x_seq1, cis.unsqueeze(0)), c["rotated_complex"], kOpTol, kOpTol);
    // Wan's rotation of [B, S, H, D] by [1, S, 1, D] tables is the same rotation.
    RotaryTables wan{inter.cos.view({1, 10, 1, 16}), inter.sin.view({1, 10, 1, 16})};
    EXPECT_BLOCK_NEAR(apply_rotary_wan(x_seq1, wan), c["rotated_seq1"], kOpTol, kOpTol);
}

TEST(RoPE, Wan3DTablesForAVideoGrid) {
    c10::InferenceMode guard;
    Case c("rope_wan");
    WanRotaryEmbedding rope(c.config["head_dim"], {1, 2, 2}, c.config["max_seq_len"]);
    auto t = rope.forward(at::zeros(c.config["latents"].get<std::vector<int64_t>>()));
    EXPECT_EQ(t.cos.sizes(), c["cos"].sizes());
    EXPECT_BLOCK_NEAR(t.cos, c["cos"], 1e-6, 0.0);
    EXPECT_BLOCK_NEAR(t.sin, c["sin"], 1e-6, 0.0);
    EXPECT_THROW(rope.for_grid(2000, 1, 1), Error);
}

}  // namespace
}  // namespace vmeval::nn
