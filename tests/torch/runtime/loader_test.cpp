// The loader against real diffusers folders (whole, sharded, fp16 variant) and every dtype.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/load.hpp"
#include "support/testkit.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

using testing::compare;
using testing::golden_dir;
using testing::load_json;
using testing::load_tensors;

/// A module declaring exactly the names and shapes the reference model had.
class Declared : public Module {
public:
    explicit Declared(const nlohmann::json& shapes) {
        for (const auto& [name, shape] : shapes.items()) param(name, shape.get<std::vector<int64_t>>());
    }
    at::Tensor& add(const std::string& name, std::vector<int64_t> shape) { return param(name, std::move(shape)); }
};

TEST(Loader, EveryDtypeReadsToTheReferenceValues) {
    auto dir = golden_dir("loader");
    auto reader = CheckpointReader::open_file(dir / "dtypes.safetensors");
    auto expected = load_tensors(dir / "dtypes_expected.safetensors");
    ASSERT_EQ(reader.names().size(), expected.size());
    for (const auto& [name, want] : expected) {
        SCOPED_TRACE(name);
        auto got = reader.read(name);
        EXPECT_EQ(got.sizes(), want.sizes());
        EXPECT_TENSOR_NEAR(got.to(at::kDouble), want, 0.0, 0.0);
    }
    // Conversion on read: floating tensors take the requested dtype, integers keep theirs.
    EXPECT_EQ(reader.read("bf16", at::kCPU, at::kFloat).scalar_type(), at::kFloat);
    EXPECT_EQ(reader.read("f8_e4m3", at::kCPU, at::kBFloat16).scalar_type(), at::kBFloat16);
    EXPECT_EQ(reader.read("i32", at::kCPU, at::kFloat).scalar_type(), at::kInt);
    EXPECT_TENSOR_NEAR(reader.read("f16", at::kCPU, at::kFloat).to(at::kDouble), expected["f16"], 0.0, 0.0);
}

TEST(Loader, WholeShardedAndVariantFoldersLoadTheSameModel) {
    auto dir = golden_dir("loader");
    auto shapes = load_json(dir / "shapes.json");
    Declared whole(shapes), sharded(shapes), variant(shapes);
    auto whole_reader = CheckpointReader::open_component(dir / "single");
    auto sharded_reader = CheckpointReader::open_component(dir / "sharded");
    EXPECT_NE(sharded_reader.describe().find(".index.json"), std::string::npos) << "golden must be sharded";
    auto r1 = load_weights(whole, whole_reader);
    auto r2 = load_weights(sharded, sharded_reader);
    LoadOptions half;
    half.dtype = at::kFloat;
    auto r3 = load_weights(variant, CheckpointReader::open_component(dir / "variant", "fp16"), half);
    EXPECT_EQ(r1.loaded, shapes.size());
    EXPECT_EQ(r2.loaded, shapes.size());
    EXPECT_EQ(r3.loaded, shapes.size());
    auto a = whole.named_tensors(), b = sharded.named_tensors(), c = variant.named_tensors();
    for (std::size_t i = 0; i < a.size(); ++i) {
        SCOPED_TRACE(a[i].name);
        EXPECT_TENSOR_NEAR(*b[i].tensor, *a[i].tensor, 0.0, 0.0);
        // The fp16 variant holds the same values rounded to half precision.
        EXPECT_TENSOR_NEAR(*c[i].tensor, a[i].tensor->to(at::kHalf).to(at::kFloat), 0.0, 0.0);
        EXPECT_EQ(c[i].tensor->scalar_type(), at::kFloat);
    }
    // Loading into bf16 converts on the way in; Keep::Float32 is honoured by load_weights.
    Declared bf(shapes);
    LoadOptions bf16;
    bf16.dtype = at::kBFloat16;
    load_weights(bf, whole_reader, bf16);
    EXPECT_EQ(bf.named_tensors().front().tensor->scalar_type(), at::kBFloat16);
}

TEST(Loader, ReportsMissingUnexpectedAndMisShapedKeysByName) {
    auto dir = golden_dir("loader");
    auto shapes = load_json(dir / "shapes.json");
    auto reader = CheckpointReader::open_component(dir / "single");

    nlohmann::json fewer = shapes;
    fewer.erase("encoder.conv_in.weight");
    Declared missing_one(shapes);
    missing_one.add("encoder.not_in_file.weight", {3});
    auto report = check_weights(missing_one, reader);
    ASSERT_EQ(report.missing.size(), 1u);
    EXPECT_EQ(report.missing[0], "encoder.not_in_file.weight");

    Declared partial(fewer);
    report = check_weights(partial, reader);
    ASSERT_EQ(report.unexpected.size(), 1u);
    EXPECT_EQ(report.unexpected[0], "encoder.conv_in.weight");
    LoadOptions ignore;
    ignore.ignore_prefixes = {"encoder.conv_in."};
    EXPECT_TRUE(check_weights(partial, reader, ignore).ok());

    nlohmann::json wrong = shapes;
    wrong["decoder.conv_out.bias"] = {4};
    Declared misshaped(wrong);
    report = check_weights(misshaped, reader);
    ASSERT_EQ(report.mismatched.size(), 1u);
    EXPECT_NE(report.mismatched[0].find("decoder.conv_out.bias: checkpoint [3] vs module [4]"), std::string::npos);
    try {
        load_weights(misshaped, reader);
        FAIL() << "a mis-shaped key must refuse the load";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(std::string(e.what()).find("decoder.conv_out.bias"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("diffusion_pytorch_model.safetensors"), std::string::npos) << e.what();
    }
    // Nothing was half-loaded.
    EXPECT_FALSE(misshaped.named_tensors().front().tensor->defined());
}

TEST(Loader, AWrongWeightIsCaughtByTheComparison) {
    auto dir = golden_dir("loader");
    auto reader = CheckpointReader::open_component(dir / "single");
    auto good = reader.read("decoder.conv_out.weight");
    auto bad = good.clone();
    bad.view(-1)[7] += 1e-3;
    EXPECT_TRUE(compare(good, good.clone(), 1e-6, 1e-5).ok);
    auto c = compare(bad, good, 1e-6, 1e-5);
    EXPECT_FALSE(c.ok) << c.text;
    EXPECT_NEAR(c.max_abs, 1e-3, 1e-6);
}

TEST(Config, TypedGettersNameTheFileAndKey) {
    vmeval::testkit::TempDir tmp;
    auto file = tmp.path() / "config.json";
    std::ofstream(file) << R"({"_class_name": "WanTransformer3DModel", "num_layers": "40", "patch_size": [1, 2, 2]})";
    auto config = ConfigFile::load(file);
    EXPECT_EQ(config.class_name(), "WanTransformer3DModel");
    EXPECT_EQ(config.get<std::vector<int>>("patch_size"), (std::vector<int>{1, 2, 2}));
    EXPECT_EQ(config.get<double>("eps", 1e-6), 1e-6);
    try {
        config.get<int>("num_layers");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("config.json: 'num_layers' must be an integer"), std::string::npos) << e.what();
    }
    try {
        config.get<int>("num_heads");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'num_heads' is missing"), std::string::npos) << e.what();
    }
}

TEST(Config, ModelIndexListsComponentsAndNamesWhatIsMissing) {
    vmeval::testkit::TempDir tmp;
    std::ofstream(tmp.path() / "model_index.json")
        << R"({"_class_name": "StableVideoDiffusionPipeline", "unet": ["diffusers", "UNetSpatioTemporalConditionModel"],
              "vae": ["diffusers", "AutoencoderKLTemporalDecoder"], "safety_checker": [null, null]})";
    std::filesystem::create_directories(tmp.path() / "unet");
    auto index = ModelIndex::load(tmp.path());
    EXPECT_EQ(index.pipeline_class, "StableVideoDiffusionPipeline");
    EXPECT_EQ(index.components.size(), 2u);
    index.require({"unet"});
    try {
        index.require({"unet", "vae", "image_encoder"});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("lacks vae, image_encoder"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace vmeval::nn
