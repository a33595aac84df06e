// T5 v1.1 and umT5 encoders against transformers' T5EncoderModel / UMT5EncoderModel
// (goldens/encoders.py).
#include "models/torch/encoders/t5_encoder.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::enc {
namespace {

using testing::golden_dir;
using testing::load_tensors;

// fp32 on the CPU through 2 blocks: a few float roundings per op.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

using testing::expect_close;

at::Tensor find(Module& module, const std::string& name) {
    for (const auto& e : module.named_tensors())
        if (e.name == name) return *e.tensor;
    ADD_FAILURE() << "no tensor " << name;
    return {};
}

TEST(T5Config, ReadsTheTransformersFields) {
    auto dir = golden_dir("encoders");
    auto t5 = T5Config::from(ConfigFile::load(dir / "t5/text_encoder/config.json"));
    EXPECT_EQ(t5.d_model, 32);
    EXPECT_EQ(t5.d_kv, 8);
    EXPECT_EQ(t5.d_ff, 64);
    EXPECT_EQ(t5.num_layers, 2);
    EXPECT_EQ(t5.num_heads, 4);
    EXPECT_EQ(t5.vocab_size, 100);
    EXPECT_TRUE(t5.gated);
    EXPECT_EQ(t5.activation, Activation::GELUTanh);  // "gated-gelu" means gelu_new
    EXPECT_FALSE(t5.bias_in_every_layer);
    auto umt5 = T5Config::from(ConfigFile::load(dir / "umt5/text_encoder/config.json"));
    EXPECT_TRUE(umt5.bias_in_every_layer);
    EXPECT_EQ(umt5.relative_attention_max_distance, 16);
    EXPECT_EQ(umt5.vocab_size, 120);
}

TEST(T5Encoder, RelativePositionBucketsMatchMeshTensorflow) {
    // 32 buckets: 16 per direction, 8 exact, the rest logarithmic up to 128, then clamped. The
    // expected values are transformers' T5Attention._relative_position_bucket; 16, 32 and 64 sit
    // exactly on bucket edges, where a log in other precision would land one bucket lower.
    auto relative = at::tensor(
        std::vector<int64_t>{0, 1, -1, 7, -8, 12, -16, 100, -127, 128, -1000, 16, 32, 64, -23});
    auto got = t5_relative_position_buckets(relative, 32, 128);
    std::vector<int64_t> want{0, 17, 1, 23, 8, 25, 10, 31, 15, 31, 15, 26, 28, 30, 11};
    EXPECT_EQ(std::vector<int64_t>(got.data_ptr<int64_t>(), got.data_ptr<int64_t>() + got.numel()),
              want);
}

TEST(T5Encoder, MatchesTransformersWithAndWithoutMask) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "t5_io.safetensors");
    auto encoder = T5Encoder::load(dir / "t5/text_encoder");
    EXPECT_EQ(encoder->named_tensors().size(), 21u);
    auto hidden = encoder->forward(io["input_ids"], io["attention_mask"]);
    expect_close("last_hidden_state", hidden, io["last_hidden_state"], kAtol, kRtol);
    expect_close("unmasked", encoder->forward(io["input_ids"]), io["unmasked"], kAtol, kRtol);
    // The mask matters: padded keys change the unmasked result of the padded row.
    EXPECT_FALSE(
        testing::compare(encoder->forward(io["input_ids"]), io["last_hidden_state"], kAtol, kRtol)
            .ok);
}

TEST(T5Encoder, UMT5WithABiasInEveryLayerFromAShardedFolder) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "umt5_io.safetensors");
    auto reader = CheckpointReader::open_component(dir / "umt5/text_encoder");
    EXPECT_NE(reader.describe().find(".index.json"), std::string::npos) << "golden must be sharded";
    auto encoder = T5Encoder::load(dir / "umt5/text_encoder");
    EXPECT_TRUE(
        find(*encoder, "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight")
            .defined());
    auto hidden = encoder->forward(io["input_ids"], io["attention_mask"]);
    expect_close("last_hidden_state", hidden, io["last_hidden_state"], kAtol, kRtol);
}

TEST(T5Encoder, TiedEmbeddingUnderEitherNameLoadsTheSameModel) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "t5_io.safetensors");
    for (const char* name : {"embed_tokens_only", "both_names"}) {
        SCOPED_TRACE(name);
        auto encoder = T5Encoder::load(dir / "t5_tied" / name);
        auto hidden = encoder->forward(io["input_ids"], io["attention_mask"]);
        expect_close(std::string(name) + ".last_hidden_state", hidden, io["last_hidden_state"],
                     kAtol, kRtol);
    }
}

TEST(T5Encoder, ADecoderCheckpointIsReportedNotSilentlyLoaded) {
    auto dir = golden_dir("encoders");
    try {
        T5Encoder::load(dir / "t5_with_decoder/text_encoder");
        FAIL() << "a T5Model checkpoint holds decoder weights the encoder must not swallow";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(std::string(e.what()).find("unexpected: decoder."), std::string::npos)
            << e.what();
    }
}

TEST(T5Encoder, HalfPrecisionKeepsWoInFloat32AndStaysClose) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "t5_io.safetensors");
    auto half = T5Encoder::load(dir / "t5/text_encoder", at::kCPU, at::kHalf);
    EXPECT_EQ(find(*half, "encoder.block.1.layer.1.DenseReluDense.wo.weight").scalar_type(),
              at::kFloat);
    EXPECT_EQ(find(*half, "encoder.block.1.layer.1.DenseReluDense.wi_0.weight").scalar_type(),
              at::kHalf);
    auto out = half->forward(io["input_ids"], io["attention_mask"]);
    EXPECT_EQ(out.scalar_type(), at::kHalf);
    EXPECT_TRUE(at::isfinite(out).all().item<bool>());
    expect_close("last_hidden_state", out.to(at::kFloat), io["last_hidden_state"], 2e-2, 2e-2);
}

TEST(T5Encoder, BFloat16MatchesTheReferenceInBFloat16) {
    c10::InferenceMode guard;
    auto dir = golden_dir("encoders");
    auto io = load_tensors(dir / "t5_io.safetensors");
    auto bf16 = T5Encoder::load(dir / "t5/text_encoder", at::kCPU, at::kBFloat16);
    EXPECT_EQ(find(*bf16, "encoder.block.1.layer.1.DenseReluDense.wo.weight").scalar_type(),
              at::kBFloat16);
    auto out = bf16->forward(io["input_ids"], io["attention_mask"]).to(at::kFloat);
    EXPECT_TRUE(at::isfinite(out).all().item<bool>());
    // bf16 keeps 8 bits of mantissa: the two bf16 runs differ in op order, not in what they
    // compute.
    auto c = testing::compare(out, io["last_hidden_state_bf16"], 3e-2, 3e-2);
    EXPECT_TRUE(c.ok) << c.text;
    EXPECT_GT(c.cosine, 0.999) << c.text;
    RecordProperty("last_hidden_state_bf16", c.text);
}

}  // namespace
}  // namespace vmeval::enc
