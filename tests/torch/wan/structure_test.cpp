// The released Wan configurations (Wan 2.1 I2V 14B, a Wan 2.2 A14B expert, TI2V 5B, both VAEs)
// built from their config values must declare exactly the state_dict names and shapes of the
// diffusers classes (structures.json, from meta-device instances), so the real checkpoints load.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "models/wan/transformer.hpp"
#include "models/wan/vae.hpp"
#include "torch/support/golden.hpp"

namespace {

using vmeval::testing::golden_dir;
using vmeval::testing::load_json;

void expect_same_tensors(vmeval::nn::Module& module, const nlohmann::json& reference,
                         const std::string& what) {
    std::map<std::string, std::vector<int64_t>> ours;
    uint64_t numel = 0;
    for (const auto& e : module.named_tensors())
        if (e.persistent) ours[e.name] = e.shape;
    std::vector<std::string> missing, unexpected, mismatched;
    for (const auto& [name, shape] : reference.items()) {
        auto want = shape.get<std::vector<int64_t>>();
        auto it = ours.find(name);
        if (it == ours.end()) {
            missing.push_back(name);
            continue;
        }
        if (it->second != want) mismatched.push_back(name);
        int64_t n = 1;
        for (auto d : want) n *= d;
        numel += static_cast<uint64_t>(n);
    }
    for (const auto& [name, shape] : ours)
        if (!reference.contains(name)) unexpected.push_back(name);
    auto first = [](const std::vector<std::string>& v) {
        return v.empty() ? std::string() : v.front();
    };
    EXPECT_TRUE(missing.empty()) << what << ": " << missing.size() << " missing, e.g. "
                                 << first(missing);
    EXPECT_TRUE(unexpected.empty())
        << what << ": " << unexpected.size() << " unexpected, e.g. " << first(unexpected);
    EXPECT_TRUE(mismatched.empty())
        << what << ": " << mismatched.size() << " mis-shaped, e.g. " << first(mismatched);
    std::cout << what << ": " << ours.size() << " tensors, " << numel << " parameters\n";
}

class WanStructure : public ::testing::TestWithParam<std::string> {};

TEST_P(WanStructure, DeclaresTheReferenceStateDict) {
    auto all = load_json(golden_dir("wan") / "structures.json");
    const auto& entry = all.at(GetParam());
    vmeval::nn::ConfigFile config(entry.at("config"), "structures.json:" + GetParam());
    if (GetParam().find("vae") != std::string::npos) {
        vmeval::wan::VAE vae(vmeval::wan::VAEConfig::from(config));
        expect_same_tensors(vae, entry.at("tensors"), GetParam());
    } else {
        vmeval::wan::Transformer model(vmeval::wan::TransformerConfig::from(config));
        expect_same_tensors(model, entry.at("tensors"), GetParam());
    }
}

INSTANTIATE_TEST_SUITE_P(Released, WanStructure,
                         ::testing::Values("wan21_i2v_14b", "wan22_i2v_a14b", "wan22_ti2v_5b",
                                           "wan21_vae", "wan22_vae"));

}  // namespace
