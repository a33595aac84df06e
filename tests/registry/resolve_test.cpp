#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/testkit.hpp"

#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::registry {
namespace {

std::vector<std::string> names_of(const std::vector<std::string>& selectors) {
    std::vector<std::string> names;
    for (const ModelInfo* model : resolve(selectors)) names.emplace_back(model->name);
    return names;
}

/// The Error resolve() throws for `selectors`; fails the test when it does not throw.
std::optional<Error> resolve_error(const std::vector<std::string>& selectors) {
    try {
        resolve(selectors);
    } catch (const Error& error) {
        return error;
    }
    ADD_FAILURE() << "resolve did not throw";
    return std::nullopt;
}

/// Sets (or unsets, for null) an environment variable for one test and restores it afterwards.
using vmeval::testkit::ScopedEnv;

bool contains(const std::vector<std::string>& list, const std::string& item) {
    for (const std::string& entry : list) {
        if (entry == item) return true;
    }
    return false;
}

TEST(Resolve, ExactName) {
    EXPECT_EQ(names_of({"svd"}), (std::vector<std::string>{"svd"}));
    EXPECT_EQ(names_of({"LTX-2"}), (std::vector<std::string>{"LTX-2"}));
    EXPECT_TRUE(names_of({}).empty());
}

TEST(Resolve, CommaListsAreTrimmedAndEmptyPiecesIgnored) {
    EXPECT_EQ(names_of({" svd , ltx-video,, ", "veo-2"}),
              (std::vector<std::string>{"svd", "ltx-video", "veo-2"}));
    EXPECT_TRUE(names_of({" , "}).empty());
}

TEST(Resolve, DuplicatesCollapseKeepingFirstSeenOrder) {
    EXPECT_EQ(names_of({"veo-2", "svd,veo-2", "svd", "VEO-2"}),
              (std::vector<std::string>{"veo-2", "svd"}));
    // A family after one of its members adds only the rest, in catalog order.
    EXPECT_EQ(names_of({"kling-v2.5-turbo", "kling"}),
              (std::vector<std::string>{"kling-v2.5-turbo", "kling-v2.1", "kling-v2.1-master"}));
}

TEST(Resolve, NamesIgnoreCaseWhenNothingMatchesExactly) {
    EXPECT_EQ(names_of({"ltx-2"}), (std::vector<std::string>{"LTX-2"}));
    EXPECT_EQ(names_of({"SVD"}), (std::vector<std::string>{"svd"}));
    EXPECT_EQ(names_of({"Luma-Ray-2"}), (std::vector<std::string>{"luma-ray-2"}));
}

TEST(Resolve, FamilyNamesAndSlugs) {
    EXPECT_EQ(names_of({"Google Veo"}).size(), 5u);
    EXPECT_EQ(names_of({"google veo"}).size(), 5u);
    EXPECT_EQ(names_of({"WAN (Wan-AI)"}).size(), 4u);
    EXPECT_EQ(names_of({"wan"}),
              (std::vector<std::string>{"wan-2.1-i2v-480p", "wan-2.1-i2v-720p", "wan-2.2-i2v-a14b",
                                        "wan-2.2-ti2v-5b"}));
    EXPECT_EQ(names_of({"veo"}).size(), 5u);
    EXPECT_EQ(names_of({"Kling"}).size(), 3u);
    EXPECT_EQ(names_of({"luma"}).size(), 2u);
    EXPECT_EQ(names_of({"sora"}).size(), 2u);
    EXPECT_EQ(names_of({"runway"}).size(), 3u);
    EXPECT_EQ(names_of({"ltx"}), (std::vector<std::string>{"ltx-video", "ltx-video-13b-distilled",
                                                            "LTX-2"}));
    EXPECT_EQ(names_of({"cogvideox"}).size(), 2u);
    EXPECT_EQ(names_of({"dynamicrafter"}).size(), 3u);
    EXPECT_EQ(names_of({"DynamiCrafter"}).size(), 3u);
    EXPECT_EQ(names_of({"hunyuan"}), (std::vector<std::string>{"hunyuan-video-i2v"}));
    EXPECT_EQ(names_of({"sana-video"}), (std::vector<std::string>{"sana-video-2b-480p", "sana"}));
    EXPECT_EQ(names_of({"baselines"}),
              (std::vector<std::string>{"baseline-still", "baseline-crossfade"}));
    // "svd" is both a model and its family's slug; they agree.
    EXPECT_EQ(names_of({"svd"}), (std::vector<std::string>{"svd"}));
    EXPECT_EQ(names_of({"Stable Video Diffusion"}), (std::vector<std::string>{"svd"}));
    // An exact name beats a family: `sana` is the alias model, not the SANA-Video family.
    EXPECT_EQ(names_of({"sana"}), (std::vector<std::string>{"sana"}));
    // The family as displayed beats a model whose name differs only in case.
    EXPECT_EQ(names_of({"LTX-Video"}).size(), 3u);
    EXPECT_EQ(names_of({"Ltx-Video"}), (std::vector<std::string>{"ltx-video"}));
}

TEST(Resolve, EveryFamilyResolvesByName) {
    for (const ModelInfo& model : all_models()) {
        std::vector<std::string> family = names_of({model.family});
        EXPECT_TRUE(contains(family, model.name)) << model.family;
    }
}

TEST(Resolve, Globs) {
    EXPECT_EQ(names_of({"veo-*"}).size(), 5u);
    EXPECT_EQ(names_of({"wan-2.2-*"}),
              (std::vector<std::string>{"wan-2.2-i2v-a14b", "wan-2.2-ti2v-5b"}));
    EXPECT_EQ(names_of({"wan-2.?-i2v-*"}).size(), 3u);
    EXPECT_EQ(names_of({"dynamicrafter-[25]*"}),
              (std::vector<std::string>{"dynamicrafter-256", "dynamicrafter-512"}));
    EXPECT_EQ(names_of({"*-i2v"}),
              (std::vector<std::string>{"hunyuan-video-i2v", "cogvideox-5b-i2v",
                                        "cogvideox1.5-5b-i2v"}));
    // Case-sensitive first, then ignoring case.
    EXPECT_EQ(names_of({"ltx*"}),
              (std::vector<std::string>{"ltx-video", "ltx-video-13b-distilled"}));
    EXPECT_EQ(names_of({"LTX*"}), (std::vector<std::string>{"LTX-2"}));
    EXPECT_EQ(names_of({"VEO-*"}).size(), 5u);
    EXPECT_EQ(names_of({"veo-3*,veo-2"}).front(), "veo-3.0-generate");
}

TEST(Resolve, GroupsHoldWhatThisBuildCanRun) {
    EXPECT_EQ(names_of({"all-baselines"}),
              (std::vector<std::string>{"baseline-still", "baseline-crossfade"}));
    // The 15 API models less runway-gen4-aleph, which no request can serve (see its notes).
    std::vector<std::string> api = names_of({"all-api"});
    EXPECT_EQ(api.size(), 14u);
    EXPECT_TRUE(contains(api, "kling-v2.1"));
    EXPECT_FALSE(contains(api, "runway-gen4-aleph"));
    EXPECT_EQ(names_of({"ALL-API"}).size(), 14u);
    EXPECT_EQ(names_of({"all"}).size(), 16u);
    // Open models are not built yet: the group says so instead of resolving to nothing.
    try {
        vmeval::registry::resolve({"all-local"});
        FAIL() << "all-local resolved although no local backend is built";
    } catch (const vmeval::Error& e) {
        EXPECT_EQ(e.code(), vmeval::ErrorCode::Usage);
        EXPECT_NE(std::string(e.what()).find("matches no model that this build can run"), std::string::npos);
    }
    // Named explicitly, an unsupported model still resolves (and is refused with its reason later).
    EXPECT_EQ(names_of({"runway-gen4-aleph"}).size(), 1u);
    EXPECT_EQ(names_of({"svd"}).size(), 1u);
}

TEST(Resolve, UnknownNamesAreUsageErrorsWithSuggestions) {
    std::optional<Error> error = resolve_error({"veo3"});
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code(), ErrorCode::Usage);
    std::string message = error->what();
    EXPECT_NE(message.find("unknown model 'veo3'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean: veo-3.0-generate"), std::string::npos) << message;
    EXPECT_NE(message.find("(vmeval models lists them all)"), std::string::npos) << message;

    error = resolve_error({"svd-xt"});
    ASSERT_TRUE(error);
    EXPECT_NE(std::string(error->what()).find("did you mean: svd"), std::string::npos)
        << error->what();

    error = resolve_error({"wan-2.1-480p"});
    ASSERT_TRUE(error);
    EXPECT_NE(std::string(error->what()).find("did you mean: wan-2.1-i2v-480p"),
              std::string::npos)
        << error->what();
}

TEST(Resolve, OneBadPieceFailsTheWholeList) {
    std::optional<Error> error = resolve_error({"svd, nope-model"});
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code(), ErrorCode::Usage);
    EXPECT_NE(std::string(error->what()).find("'nope-model'"), std::string::npos);
}

TEST(Resolve, GlobsThatMatchNothingAreErrors) {
    std::optional<Error> error = resolve_error({"veo-9*"});
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code(), ErrorCode::Usage);
}

TEST(Resolve, NoHintWhenNothingIsClose) {
    std::optional<Error> error = resolve_error({"zzzzzzzzzzzz"});
    ASSERT_TRUE(error);
    std::string message = error->what();
    EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;
    EXPECT_NE(message.find("vmeval models"), std::string::npos) << message;
}

TEST(Suggest, RanksCloseNamesFirst) {
    EXPECT_EQ(suggest("svd-xt").front(), "svd");
    EXPECT_EQ(suggest("wan-2.1-480p").front(), "wan-2.1-i2v-480p");
    EXPECT_EQ(suggest("kling-v2.1-mastr").front(), "kling-v2.1-master");
    EXPECT_EQ(suggest("luma-ray2").front(), "luma-ray-2");
    EXPECT_EQ(suggest("sora-2").front(), "openai-sora-2");
    EXPECT_EQ(suggest("cogvideox-1.5").front(), "cogvideox1.5-5b-i2v");
    std::vector<std::string> veo = suggest("veo3");
    ASSERT_EQ(veo.size(), 3u);
    EXPECT_EQ(veo[0], "veo-3.0-generate");
    EXPECT_EQ(veo[1], "veo-3.1-generate");
}

TEST(Suggest, HonoursTheLimit) {
    EXPECT_EQ(suggest("veo", 2).size(), 2u);
    EXPECT_TRUE(suggest("veo", 0).empty());
    EXPECT_LE(suggest("dynamicrafter", 10).size(), 10u);
}

TEST(Availability, ReportsMissingKeysByNameOnly) {
    const char* secret = "sk-live-DO-NOT-PRINT-7f3a9c";
    ScopedEnv access("KLING_ACCESS_KEY", secret);
    ScopedEnv key("KLING_SECRET_KEY", nullptr);
    Availability availability = check_availability(*find_model("kling-v2.1"));

    EXPECT_FALSE(availability.usable);
    EXPECT_TRUE(contains(availability.missing,
                         "set KLING_SECRET_KEY (in the environment or in .env; see env.template)"));
    for (const std::string& message : availability.missing) {
        EXPECT_EQ(message.find(secret), std::string::npos) << message;
        EXPECT_EQ(message.find("KLING_ACCESS_KEY"), std::string::npos) << message;
    }
}

TEST(Availability, EmptyVariablesCountAsMissing) {
    ScopedEnv key("OPENAI_API_KEY", "");
    Availability availability = check_availability(*find_model("openai-sora-2"));
    EXPECT_FALSE(availability.usable);
    EXPECT_TRUE(contains(availability.missing,
                         "set OPENAI_API_KEY (in the environment or in .env; see env.template)"));
}

TEST(Availability, ApiModelWithItsKeysNeedsOnlyItsClient) {
    const char* secret = "AIza-secret-value-123";
    ScopedEnv key("GEMINI_API_KEY", secret);
    Availability availability = check_availability(*find_model("veo-3.1-generate"));
    for (const std::string& message : availability.missing) {
        EXPECT_EQ(message.find("set "), std::string::npos) << message;
        EXPECT_EQ(message.find(secret), std::string::npos) << message;
    }
    EXPECT_EQ(availability.usable, availability.built);
    if (!availability.built) {
        EXPECT_TRUE(contains(availability.missing, "not available in this build: the Google Veo "
                                                   "API client is not implemented yet"));
    }
}

// Whether a backend is built depends on factories.cpp, so these check only consistency.
TEST(Availability, LocalModelsNeedNoKeys) {
    for (const ModelInfo& model : all_models()) {
        if (model.kind != Kind::Local) continue;
        SCOPED_TRACE(model.name);
        Availability availability = check_availability(model);
        EXPECT_EQ(availability.usable, availability.built && availability.missing.empty());
        for (const std::string& message : availability.missing) {
            EXPECT_EQ(message.find("set "), std::string::npos) << message;
        }
        if (!availability.built) {
            EXPECT_TRUE(contains(availability.missing, "not available in this build: the " +
                                                           std::string(model.family) +
                                                           " backend is not implemented yet"));
        }
    }
}

TEST(Availability, BaselinesAlwaysRun) {
    for (const char* name : {"baseline-still", "baseline-crossfade"}) {
        Availability availability = check_availability(*find_model(name));
        EXPECT_TRUE(availability.built) << name;
        EXPECT_TRUE(availability.usable) << name;
        EXPECT_TRUE(availability.missing.empty()) << name;
    }
}

}  // namespace
}  // namespace vmeval::registry
