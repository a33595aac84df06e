#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vmeval/registry/registry.hpp"

namespace vmeval::registry {
namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::string word;
    for (char c : text + " ") {
        if (c == ' ') {
            if (!word.empty()) out.push_back(word);
            word.clear();
        } else {
            word += c;
        }
    }
    return out;
}

// The original's 30 names plus Kling's three, in display order, grouped by family.
const std::vector<std::string> kOriginalOrder = {
    "luma-ray-2", "luma-ray-flash-2",
    "veo-2", "veo-2.0-generate", "veo-3.0-generate", "veo-3.0-fast-generate", "veo-3.1-generate",
    "kling-v2.1", "kling-v2.1-master", "kling-v2.5-turbo",
    "openai-sora-2", "openai-sora-2-pro",
    "runway-gen4-turbo", "runway-gen4-aleph", "runway-gen3a-turbo",
    "ltx-video", "ltx-video-13b-distilled", "LTX-2",
    "hunyuan-video-i2v",
    "videocrafter2-512",
    "dynamicrafter-256", "dynamicrafter-512", "dynamicrafter-1024",
    "morphic-frames-to-video",
    "svd",
    "wan-2.1-i2v-480p", "wan-2.1-i2v-720p", "wan-2.2-i2v-a14b", "wan-2.2-ti2v-5b",
    "cogvideox-5b-i2v", "cogvideox1.5-5b-i2v",
    "sana-video-2b-480p", "sana",
};

TEST(Catalog, HasTheOriginalModelsPlusKlingAfterTheTwoBaselines) {
    std::vector<std::string> names;
    for (const ModelInfo& model : all_models()) names.emplace_back(model.name);
    std::vector<std::string> expected = {"baseline-still", "baseline-crossfade"};
    expected.insert(expected.end(), kOriginalOrder.begin(), kOriginalOrder.end());
    EXPECT_EQ(names, expected);
    ASSERT_EQ(all_models().size(), 35u);

    size_t baselines = 0;
    for (const ModelInfo& model : all_models()) baselines += model.kind == Kind::Baseline;
    EXPECT_EQ(baselines, 2u);
}

TEST(Catalog, NamesAreUniqueEvenIgnoringCase) {
    std::set<std::string> seen;
    for (const ModelInfo& model : all_models()) {
        EXPECT_TRUE(seen.insert(lower(model.name)).second) << model.name;
    }
}

TEST(Catalog, FamiliesGroupTheModels) {
    std::map<std::string, std::vector<std::string>> families;
    for (const ModelInfo& model : all_models()) {
        if (model.kind != Kind::Baseline) families[model.family].emplace_back(model.name);
    }
    EXPECT_EQ(families.size(), 14u);
    EXPECT_EQ(families["Google Veo"].size(), 5u);
    EXPECT_EQ(families["Kling"].size(), 3u);
    EXPECT_EQ(families["LTX-Video"],
              (std::vector<std::string>{"ltx-video", "ltx-video-13b-distilled", "LTX-2"}));
    EXPECT_EQ(families["SANA-Video"], (std::vector<std::string>{"sana-video-2b-480p", "sana"}));
    EXPECT_EQ(families["WAN (Wan-AI)"].size(), 4u);
    EXPECT_EQ(find_model("baseline-still")->family, std::string("Baselines"));

    // Display order keeps each family contiguous.
    std::set<std::string> started;
    std::string current;
    for (const ModelInfo& model : all_models()) {
        if (model.family == current) continue;
        EXPECT_TRUE(started.insert(model.family).second) << model.family << " is split";
        current = model.family;
    }
}

TEST(Catalog, KindMatchesBackend) {
    const std::set<Backend> api = {Backend::Luma, Backend::Veo, Backend::Kling, Backend::Sora,
                                   Backend::Runway};
    for (const ModelInfo& model : all_models()) {
        SCOPED_TRACE(model.name);
        EXPECT_EQ(model.kind == Kind::Baseline, model.backend == Backend::Baseline);
        EXPECT_EQ(model.kind == Kind::Api, api.count(model.backend) == 1);
    }
}

TEST(Catalog, ApiModelsNameTheirKeysAndProviderIds) {
    for (const ModelInfo& model : all_models()) {
        if (model.kind != Kind::Api) continue;
        SCOPED_TRACE(model.name);
        EXPECT_STRNE(model.provider_model_id, "");
        EXPECT_STREQ(model.weights, "");
        ASSERT_FALSE(words(model.env_vars).empty());
        for (const std::string& variable : words(model.env_vars)) {
            for (char c : variable) {
                EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c)) ||
                            std::isdigit(static_cast<unsigned char>(c)) || c == '_')
                    << variable;
            }
        }
    }
    EXPECT_STREQ(find_model("kling-v2.1")->env_vars, "KLING_ACCESS_KEY KLING_SECRET_KEY");
    EXPECT_STREQ(find_model("luma-ray-2")->env_vars, "LUMA_API_KEY");
    EXPECT_STREQ(find_model("veo-2")->env_vars, "GEMINI_API_KEY");
    EXPECT_STREQ(find_model("openai-sora-2-pro")->env_vars, "OPENAI_API_KEY");
    EXPECT_STREQ(find_model("runway-gen4-turbo")->env_vars, "RUNWAYML_API_SECRET");
}

TEST(Catalog, LocalModelsNameTheirWeightsAndNeedNoKeys) {
    for (const ModelInfo& model : all_models()) {
        if (model.kind == Kind::Api) continue;
        SCOPED_TRACE(model.name);
        EXPECT_STREQ(model.env_vars, "");
        if (model.kind == Kind::Local) {
            EXPECT_STRNE(model.provider_model_id, "");
            EXPECT_STRNE(model.weights, "");
            EXPECT_GT(model.defaults.width, 0);
            EXPECT_GT(model.defaults.height, 0);
            EXPECT_GT(model.defaults.steps, 0);
        }
        EXPECT_GT(model.defaults.frames, 0);
        EXPECT_GT(model.defaults.fps, 0);
    }
}

TEST(Catalog, EveryRowIsDescribed) {
    for (const ModelInfo& model : all_models()) {
        SCOPED_TRACE(model.name);
        const std::string description = model.description;
        EXPECT_FALSE(description.empty());
        EXPECT_EQ(description.find('\n'), std::string::npos);
        EXPECT_LE(description.size(), 90u);
        EXPECT_NE(model.notes, nullptr);
    }
}

TEST(Catalog, ProviderIdsAreWhatProvidersServe) {
    EXPECT_STREQ(find_model("veo-2")->provider_model_id, "veo-2.0-generate-001");
    EXPECT_STREQ(find_model("veo-2.0-generate")->provider_model_id, "veo-2.0-generate-001");
    EXPECT_STREQ(find_model("veo-3.0-generate")->provider_model_id, "veo-3.0-generate-001");
    EXPECT_STREQ(find_model("veo-3.0-fast-generate")->provider_model_id,
                 "veo-3.0-fast-generate-001");
    // The original's "-001" is a Vertex AI id; the Gemini API answers it with 404.
    EXPECT_STREQ(find_model("veo-3.1-generate")->provider_model_id, "veo-3.1-generate-preview");
    EXPECT_STREQ(find_model("kling-v2.1")->provider_model_id, "kling-v2-1");
    EXPECT_STREQ(find_model("kling-v2.1-master")->provider_model_id, "kling-v2-1-master");
    EXPECT_STREQ(find_model("kling-v2.5-turbo")->provider_model_id, "kling-v2-5-turbo");
    EXPECT_STREQ(find_model("svd")->provider_model_id,
                 "stabilityai/stable-video-diffusion-img2vid-xt");
    EXPECT_STREQ(find_model("runway-gen4-turbo")->provider_model_id, "gen4_turbo");
}

TEST(Catalog, DefaultsUseTheIntendedValuesWhereTheOriginalIgnoredThem) {
    const Defaults& cog15 = find_model("cogvideox1.5-5b-i2v")->defaults;
    EXPECT_EQ(cog15.width, 1360);
    EXPECT_EQ(cog15.height, 768);
    EXPECT_EQ(cog15.frames, 81);
    EXPECT_DOUBLE_EQ(cog15.fps, 16);
    EXPECT_STRNE(find_model("cogvideox1.5-5b-i2v")->notes, "");

    const Defaults& kling = find_model("kling-v2.1")->defaults;
    EXPECT_DOUBLE_EQ(kling.duration_s, 5);
    EXPECT_DOUBLE_EQ(kling.fps, 24);

    const Defaults& still = find_model("baseline-still")->defaults;
    EXPECT_EQ(still.width, 0);  // the input image's size
    EXPECT_EQ(still.frames, 16);
    EXPECT_DOUBLE_EQ(still.fps, 8);
    EXPECT_DOUBLE_EQ(still.duration_s, 2.0);
}

TEST(Catalog, SanaIsAnAliasOfSanaVideo) {
    const ModelInfo* alias = find_model("sana");
    const ModelInfo* model = find_model("sana-video-2b-480p");
    ASSERT_NE(alias, nullptr);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(alias->backend, model->backend);
    EXPECT_STREQ(alias->provider_model_id, model->provider_model_id);
    EXPECT_STREQ(alias->weights, model->weights);
    EXPECT_EQ(alias->defaults.frames, model->defaults.frames);
    EXPECT_NE(std::string(alias->notes).find("sana-video-2b-480p"), std::string::npos);
}

TEST(Catalog, FindModelIsExactAndCaseSensitive) {
    ASSERT_NE(find_model("LTX-2"), nullptr);
    EXPECT_STREQ(find_model("LTX-2")->name, "LTX-2");
    EXPECT_EQ(find_model("ltx-2"), nullptr);
    EXPECT_EQ(find_model("veo"), nullptr);
    EXPECT_EQ(find_model(""), nullptr);
}

TEST(Catalog, KindNames) {
    EXPECT_STREQ(to_string(Kind::Baseline), "baseline");
    EXPECT_STREQ(to_string(Kind::Api), "api");
    EXPECT_STREQ(to_string(Kind::Local), "local");
}

}  // namespace
}  // namespace vmeval::registry
