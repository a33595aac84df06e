// diffusers Attention (SVD's AttnProcessor2_0), WanAttention and WanTransformerBlock against the
// reference (goldens: blocks), and a check that a wrong weight is caught.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/blocks/dit_block.hpp"
#include "models/torch/blocks/rope.hpp"
#include "torch/blocks/block_golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

using testing_blocks::Case;

// One attention layer in fp32: projections and softmax stay within ~1e-6 relative; allow 1e-5.
constexpr double kAttnTol = 1e-5;
// A whole transformer block (two attentions, FFN, modulation) compounds rounding: 1e-4.
constexpr double kBlockTol = 1e-4;

AttentionOptions diffusers_options(const nlohmann::json& c) {
    AttentionOptions o;
    o.query_dim = c["query_dim"];
    o.cross_attention_dim = c.value("cross_attention_dim", 0);
    o.heads = c["heads"];
    o.dim_head = c["dim_head"];
    o.bias = c.value("bias", false);
    o.eps = c.value("eps", 1e-5);
    return o;
}

TEST(Attention, SelfAndCrossAttentionAsAttnProcessor2_0) {
    c10::InferenceMode guard;
    Case self("attn_self"), cross("attn_cross");
    Attention a(diffusers_options(self.config));
    self.load(a);
    EXPECT_BLOCK_NEAR(a.forward(self["x"]), self["out"], kAttnTol, kAttnTol);

    Attention b(diffusers_options(cross.config));
    cross.load(b);
    EXPECT_BLOCK_NEAR(b.forward(cross["x"], cross["context"]), cross["out"], kAttnTol, kAttnTol);
    // The additive key-padding mask as pipelines pass it: [B, 1, Skv].
    EXPECT_BLOCK_NEAR(b.forward(cross["x"], cross["context"], cross["mask"]), cross["out_masked"], kAttnTol,
                       kAttnTol);
}

TEST(Attention, PerHeadRMSQKNorm) {
    c10::InferenceMode guard;
    Case c("attn_rms_per_head");
    auto o = diffusers_options(c.config);
    o.qk_norm = QKNorm::RMSPerHead;
    Attention a(o);
    c.load(a);
    EXPECT_BLOCK_NEAR(a.forward(c["x"]), c["out"], kAttnTol, kAttnTol);
}

TEST(Attention, ImageInputWithGroupNormAndResidualAsTheVAEMidBlock) {
    c10::InferenceMode guard;
    Case c("attn_vae");
    auto o = diffusers_options(c.config);
    o.norm_num_groups = c.config["norm_num_groups"];
    o.residual_connection = true;
    Attention a(o);
    c.load(a);
    auto out = a.forward(c["x"]);
    EXPECT_EQ(out.sizes(), c["x"].sizes());
    EXPECT_BLOCK_NEAR(out, c["out"], kAttnTol, kAttnTol);
}

TEST(WanAttention, SelfAttentionWithRMSAcrossHeadsAndRoPEHeadDim128) {
    c10::InferenceMode guard;
    Case c("wan_attn_self");
    Attention a(AttentionOptions::wan(c.config["dim"], c.config["heads"], c.config["eps"]));
    c.load(a);
    WanRotaryEmbedding rope(128, {1, 2, 2}, 1024);
    auto tables = rope.forward(at::zeros(c.config["latents"].get<std::vector<int64_t>>()));
    EXPECT_BLOCK_NEAR(tables.cos, c["rope_cos"], 1e-6, 0.0);
    EXPECT_BLOCK_NEAR(tables.sin, c["rope_sin"], 1e-6, 0.0);
    EXPECT_BLOCK_NEAR(a.forward(c["x"], std::nullopt, std::nullopt, &tables), c["out"], kAttnTol, kAttnTol);
}

TEST(WanAttention, CrossAttentionWithTheI2VImageBranch) {
    c10::InferenceMode guard;
    Case c("wan_attn_i2v");
    Attention a(AttentionOptions::wan(c.config["dim"], c.config["heads"], c.config["eps"],
                                      c.config["added_kv_proj_dim"]));
    c.load(a);
    EXPECT_BLOCK_NEAR(a.forward(c["x"], c["text"], std::nullopt, nullptr, c["image"]), c["out"], kAttnTol,
                       kAttnTol);
    // The image branch is required exactly when the layer has one.
    EXPECT_THROW(a.forward(c["x"], c["text"]), Error);
}

DiTBlockOptions dit_options(const nlohmann::json& c) {
    return DiTBlockOptions{c["dim"], c["ffn_dim"], c["heads"], c["eps"], c["cross_attn_norm"],
                           c.value("added_kv_proj_dim", 0)};
}

TEST(DiTBlock, MatchesWanTransformerBlockWithSharedAndPerTokenModulation) {
    c10::InferenceMode guard;
    Case c("dit_block");
    DiTBlock block(dit_options(c.config));
    c.load(block);
    RotaryTables rope{c["rope_cos"], c["rope_sin"]};
    EXPECT_BLOCK_NEAR(block.forward(c["x"], c["context"], c["temb"], rope), c["out"], kBlockTol, kBlockTol);
    EXPECT_BLOCK_NEAR(block.forward(c["x"], c["context"], c["temb_tokens"], rope), c["out_tokens"], kBlockTol,
                       kBlockTol);
}

TEST(DiTBlock, MatchesWanTransformerBlockWithImageContext) {
    c10::InferenceMode guard;
    Case c("dit_block_i2v");
    DiTBlock block(dit_options(c.config));
    c.load(block);
    RotaryTables rope{c["rope_cos"], c["rope_sin"]};
    EXPECT_BLOCK_NEAR(block.forward(c["x"], c["text"], c["temb"], rope, c["image"]), c["out"], kBlockTol,
                       kBlockTol);
}

TEST(DiTBlock, RunsInBFloat16WithFp32NormsAndTableCloseToTheFp32Reference) {
    c10::InferenceMode guard;
    Case c("dit_block");
    DiTBlock block(dit_options(c.config));
    LoadOptions bf16;
    bf16.dtype = at::kBFloat16;
    auto dir = vmeval::testing::golden_dir("blocks");
    load_weights(block, CheckpointReader::open_file(dir / "dit_block.safetensors"), bf16);
    for (auto& e : block.named_tensors()) {
        SCOPED_TRACE(e.name);
        // The reference keeps norm1/2/3 and scale_shift_table in fp32 (_keep_in_fp32_modules).
        const bool fp32 = e.name == "scale_shift_table" || e.name.rfind("norm2.", 0) == 0;
        EXPECT_EQ(e.tensor->scalar_type(), fp32 ? at::kFloat : at::kBFloat16);
    }
    RotaryTables rope{c["rope_cos"], c["rope_sin"]};
    auto out = block.forward(c["x"].to(at::kBFloat16), c["context"].to(at::kBFloat16), c["temb"], rope);
    EXPECT_EQ(out.scalar_type(), at::kBFloat16);
    auto closeness = vmeval::testing::compare(out.to(at::kFloat), c["out"], 0.1, 0.05);
    EXPECT_GT(closeness.cosine, 0.999) << closeness.text;
}

TEST(WanAttention, AWeightOffBy1e3FailsTheComparisonAtTheTestTolerance) {
    c10::InferenceMode guard;
    Case c("wan_attn_self");
    Attention a(AttentionOptions::wan(c.config["dim"], c.config["heads"], c.config["eps"]));
    c.load(a);
    auto tables = WanRotaryEmbedding(128, {1, 2, 2}, 1024).for_grid(2, 2, 3);
    auto run = [&] { return a.forward(c["x"], std::nullopt, std::nullopt, &tables); };
    for (const char* key : {"to_q.weight", "to_v.weight", "norm_k.weight", "to_out.0.bias"}) {
        SCOPED_TRACE(key);
        at::Tensor* slot = nullptr;
        for (auto& e : a.named_tensors())
            if (e.name == key) slot = e.tensor;
        ASSERT_NE(slot, nullptr);
        auto saved = slot->clone();
        slot->view(-1)[0] += 1e-3;
        auto closeness = vmeval::testing::compare(run(), c["out"], kAttnTol, kAttnTol);
        EXPECT_FALSE(closeness.ok) << closeness.text;
        slot->copy_(saved);
    }
    EXPECT_BLOCK_NEAR(run(), c["out"], kAttnTol, kAttnTol);
}

}  // namespace
}  // namespace vmeval::nn
