#include "vmeval/weights/checkpoint.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "weights/safetensors_writer.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::iota_f32;
using vmeval::testkit::safetensors_bytes;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_bytes;
using vmeval::testkit::write_text;
using namespace vmeval::weights;

template <typename F>
std::string config_error(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

/// A two-shard checkpoint: a, b in shard 1; c in shard 2.
fs::path write_sharded(const fs::path& dir, const std::string& stem = "diffusion_pytorch_model",
                       const std::string& index_name = "") {
    write_bytes(dir / (stem + "-00001-of-00002.safetensors"),
                safetensors_bytes({iota_f32("a", {2}), iota_f32("b", {3})}));
    write_bytes(dir / (stem + "-00002-of-00002.safetensors"),
                safetensors_bytes({iota_f32("c", {1})}));
    const fs::path index =
        dir / (index_name.empty() ? stem + ".safetensors.index.json" : index_name);
    write_text(index, R"({"metadata": {"total_size": 24}, "weight_map": {"a": ")" + stem +
                          R"(-00001-of-00002.safetensors", "b": ")" + stem +
                          R"(-00001-of-00002.safetensors", "c": ")" + stem +
                          R"(-00002-of-00002.safetensors"}})");
    return index;
}

TEST(CheckpointIndex, ParsesWeightMapAndShards) {
    CheckpointIndex idx = parse_index(
        R"({"metadata": {"total_size": 10}, "weight_map": {"x": "s1.safetensors", "y": "s2.safetensors",
            "z": "s1.safetensors"}})",
        "/w/unet/m.safetensors.index.json");
    EXPECT_EQ(idx.total_size, 10u);
    EXPECT_EQ(idx.weight_map.at("y"), fs::path("/w/unet/s2.safetensors"));
    ASSERT_EQ(idx.shards.size(), 2u);
    EXPECT_EQ(idx.shards[0], fs::path("/w/unet/s1.safetensors"));
    EXPECT_FALSE(parse_index(R"({"weight_map": {"x": "s"}})", "i.json").total_size);
}

TEST(CheckpointIndex, RejectsMalformedIndexes) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"[]", "not a JSON object"},
        {"{", "not a JSON object"},
        {R"({"metadata": {}})", "no \"weight_map\""},
        {R"({"weight_map": {}})", "lists no tensors"},
        {R"({"metadata": 3, "weight_map": {"x": "s"}})", "\"metadata\" must be an object"},
        {R"({"metadata": {"total_size": -1}, "weight_map": {"x": "s"}})", "total_size"},
        {R"({"weight_map": {"x": 5}})", "tensor 'x' must be a file name"},
        {R"({"weight_map": {"x": "../other/s.safetensors"}})", "not a file name next to the index"},
        {R"({"weight_map": {"x": "/etc/passwd"}})", "not a file name next to the index"},
        {R"({"weight_map": {"x": "sub/s.safetensors"}})", "not a file name next to the index"},
        {R"({"weight_map": {"x": ".."}})", "not a file name next to the index"},
    };
    for (const auto& [text, expect] : cases) {
        SCOPED_TRACE(text);
        std::string msg = config_error([&] { parse_index(text, "d/m.safetensors.index.json"); });
        EXPECT_TRUE(contains(msg, "d/m.safetensors.index.json")) << msg;
        EXPECT_TRUE(contains(msg, expect)) << msg;
    }
}

TEST(CheckpointIndex, LoadChecksEveryShardAndName) {
    TempDir tmp;
    const fs::path index = write_sharded(tmp.path());
    CheckpointIndex idx = load_index(index);
    EXPECT_EQ(idx.shards.size(), 2u);

    // A shard lacking a tensor the index promises.
    write_bytes(tmp / "diffusion_pytorch_model-00002-of-00002.safetensors",
                safetensors_bytes({iota_f32("d", {1})}));
    std::string msg = config_error([&] { load_index(index); });
    EXPECT_TRUE(contains(msg, "00002-of-00002.safetensors has no tensor 'c'")) << msg;

    // A missing shard.
    fs::remove(tmp / "diffusion_pytorch_model-00002-of-00002.safetensors");
    msg = config_error([&] { load_index(index); });
    EXPECT_TRUE(contains(msg, "00002-of-00002.safetensors is missing")) << msg;

    // A corrupt shard is reported by the shard's own name.
    write_bytes(tmp / "diffusion_pytorch_model-00002-of-00002.safetensors", "garbage!garbage!");
    msg = config_error([&] { load_index(index); });
    EXPECT_TRUE(contains(msg, "00002-of-00002.safetensors: not a valid safetensors file")) << msg;
}

TEST(SelectWeights, PicksPlainOrVariantFiles) {
    TempDir tmp;
    write_bytes(tmp / "diffusion_pytorch_model.safetensors",
                safetensors_bytes({iota_f32("a", {1})}));
    write_bytes(tmp / "diffusion_pytorch_model.fp16.safetensors",
                safetensors_bytes({iota_f32("a", {1})}));
    write_text(tmp / "config.json", "{}");

    WeightFiles plain = select_weights(tmp.path());
    EXPECT_TRUE(plain.index.empty());
    ASSERT_EQ(plain.files.size(), 1u);
    EXPECT_EQ(plain.files[0].filename(), "diffusion_pytorch_model.safetensors");

    WeightFiles half = select_weights(tmp.path(), "fp16");
    ASSERT_EQ(half.files.size(), 1u);
    EXPECT_EQ(half.files[0].filename(), "diffusion_pytorch_model.fp16.safetensors");

    std::string msg = config_error([&] { select_weights(tmp.path(), "bf16"); });
    EXPECT_TRUE(contains(msg, "no 'bf16' safetensors weights")) << msg;
    EXPECT_TRUE(contains(msg, "config.json")) << msg;  // what the folder holds
    EXPECT_TRUE(contains(msg, "drop the variant")) << msg;
}

TEST(SelectWeights, PrefersAnIndexAndResolvesItsShards) {
    TempDir tmp;
    write_sharded(tmp.path());
    // A stray single file of another stem loses to the favoured stem.
    write_bytes(tmp / "model.safetensors", safetensors_bytes({iota_f32("q", {1})}));
    WeightFiles w = select_weights(tmp.path());
    EXPECT_EQ(w.index.filename(), "diffusion_pytorch_model.safetensors.index.json");
    ASSERT_EQ(w.files.size(), 2u);
    EXPECT_EQ(w.files[1].filename(), "diffusion_pytorch_model-00002-of-00002.safetensors");
}

TEST(SelectWeights, FindsBothSpellingsOfVariantIndexes) {
    TempDir a;
    write_sharded(a.path(), "diffusion_pytorch_model",
                  "diffusion_pytorch_model.safetensors.index.fp16.json");
    EXPECT_EQ(select_weights(a.path(), "fp16").files.size(), 2u);
    EXPECT_THROW(select_weights(a.path()), Error);  // no plain weights there

    TempDir b;
    write_sharded(b.path(), "model", "model.fp16.safetensors.index.json");
    EXPECT_EQ(select_weights(b.path(), "fp16").index.filename(),
              "model.fp16.safetensors.index.json");
}

TEST(SelectWeights, RefusesAmbiguousOrMissingFolders) {
    TempDir tmp;
    write_bytes(tmp / "text_encoder.safetensors", safetensors_bytes({iota_f32("a", {1})}));
    write_bytes(tmp / "vae.safetensors", safetensors_bytes({iota_f32("a", {1})}));
    std::string msg = config_error([&] { select_weights(tmp.path()); });
    EXPECT_TRUE(contains(msg, "text_encoder.safetensors")) << msg;
    EXPECT_TRUE(contains(msg, "vae.safetensors")) << msg;

    msg = config_error([&] { select_weights(tmp / "absent"); });
    EXPECT_TRUE(contains(msg, "weights folder not found")) << msg;

    TempDir shards_only;  // shards without their index are not a checkpoint
    write_bytes(shards_only / "model-00001-of-00002.safetensors",
                safetensors_bytes({iota_f32("a", {1})}));
    msg = config_error([&] { select_weights(shards_only.path()); });
    EXPECT_TRUE(contains(msg, "model-00001-of-00002.safetensors")) << msg;
}

}  // namespace
