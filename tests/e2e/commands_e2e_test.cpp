// The other commands and the error paths of the binary: exit codes and what the user is told.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/version.hpp"
#include "vmeval/registry/registry.hpp"

namespace {

using json = nlohmann::json;
using vmeval::testkit::CommandResult;
using vmeval::testkit::make_question;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace registry = vmeval::registry;

fs::path examples() { return vmeval::testkit::source_dir() / "examples" / "questions"; }

/// Runs vmeval with no .env file from the working directory.
CommandResult vm(const TempDir& tmp, std::vector<std::string> args,
                 const std::vector<std::string>& env = {}) {
    std::vector<std::string> full{"--env-file", (tmp / "no-such.env").string()};
    full.insert(full.end(), args.begin(), args.end());
    return vmeval::testkit::run_vmeval(full, env);
}

std::string show(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "\n--- stderr\n" +
           r.err;
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST(CommandsE2E, CatalogHasThirtyThreeModelsPlusTwoBaselines) {
    const auto& all = registry::all_models();
    EXPECT_EQ(all.size(), 35u);
    size_t baselines = 0;
    for (const auto& m : all) baselines += m.kind == registry::Kind::Baseline ? 1 : 0;
    EXPECT_EQ(baselines, 2u);
}

TEST(CommandsE2E, ModelsListsEveryCatalogName) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"models"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    for (const auto& m : registry::all_models()) {
        EXPECT_TRUE(has(r.out, std::string(" ") + m.name + " ")) << m.name << "\n" << show(r);
    }
    EXPECT_TRUE(has(r.out, "baseline-still"));
    EXPECT_TRUE(has(r.out, "baseline-crossfade"));
}

TEST(CommandsE2E, ModelsJsonParsesWithThirtyFiveEntries) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"models", "--json"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    json j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << show(r);
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 35u);
    const auto& all = registry::all_models();
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(j[i]["name"], all[i].name);
        EXPECT_EQ(j[i]["kind"], registry::to_string(all[i].kind));
        EXPECT_TRUE(j[i].contains("usable"));
        EXPECT_TRUE(j[i].contains("defaults"));
    }
    for (const auto& e : j) {
        if (e["kind"] == "baseline") {
            EXPECT_EQ(e["usable"], true) << e["name"];
        }
    }
}

TEST(CommandsE2E, ModelsWithSelectionListsOnlyThose) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"models", "--json", "all-baselines"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    json j = json::parse(r.out);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["name"], "baseline-still");
    EXPECT_EQ(j[1]["name"], "baseline-crossfade");
}

TEST(CommandsE2E, ModelsWithUnknownSelectionExitsTwoWithHint) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"models", "baseline-stil"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.err, "baseline-still")) << show(r);
}

TEST(CommandsE2E, ListModelsFlagListsModels) {
    TempDir tmp;
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--list-models"},
          std::vector<std::string>{"generate", "--list-models"}}) {
        CommandResult r = vm(tmp, args);
        EXPECT_EQ(r.exit_code, 0) << show(r);
        for (const auto& m : registry::all_models()) EXPECT_TRUE(has(r.out, m.name)) << m.name;
    }
}

TEST(CommandsE2E, VersionExitsZero) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"--version"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(has(r.out + r.err, vmeval::version())) << show(r);
}

TEST(CommandsE2E, HelpExitsZero) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"--help"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(has(r.out, "generate")) << show(r);
}

TEST(CommandsE2E, NoCommandPrintsHelpAndExitsTwo) {
    TempDir tmp;
    CommandResult r = vm(tmp, {});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.out + r.err, "generate")) << show(r);
}

TEST(CommandsE2E, UnknownModelExitsTwoWithDidYouMean) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = vm(tmp, {"generate", "--questions-dir", examples().string(), "--output-dir",
                               out.string(), "-m", "baseline-stil"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.err, "did you mean")) << show(r);
    EXPECT_TRUE(has(r.err, "baseline-still")) << show(r);
    EXPECT_FALSE(fs::exists(out));
}

TEST(CommandsE2E, UnavailableModelExitsTwoBeforeWritingRuns) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = vm(tmp, {"generate", "--questions-dir", examples().string(), "--output-dir",
                               out.string(), "-m", "baseline-still,wan-2.1-i2v-480p"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.err, "wan-2.1-i2v-480p")) << show(r);
    EXPECT_FALSE(fs::exists(out / "baseline-still"));
}

TEST(CommandsE2E, MissingQuestionsDirExitsTwoNamingIt) {
    TempDir tmp;
    fs::path missing = tmp / "no" / "questions-here";
    fs::path out = tmp / "out";
    CommandResult r =
        vm(tmp, {"generate", "--questions-dir", missing.string(), "--output-dir", out.string()});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.err, missing.string())) << show(r);
    EXPECT_FALSE(fs::exists(out));
}

TEST(CommandsE2E, BadCommandLinesExitTwo) {
    TempDir tmp;
    for (const std::vector<std::string>& args : {
             std::vector<std::string>{"generate", "--jobs", "0"},
             std::vector<std::string>{"generate", "--no-such-flag"},
             std::vector<std::string>{"frobnicate"},
             std::vector<std::string>{"generate", "--gpu", "-3"},
         }) {
        CommandResult r = vm(tmp, args);
        EXPECT_EQ(r.exit_code, 2) << args[1] << "\n" << show(r);
    }
}

TEST(CommandsE2E, MalformedEnvFileExitsTwoNamingLineNotValue) {
    TempDir tmp;
    fs::path env = tmp / "bad.env";
    write_text(env, "# keys\nGEMINI_API_KEY=\"sk-secret-test-value\n");
    CommandResult r = vmeval::testkit::run_vmeval({"--env-file", env.string(), "models"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.err, env.string() + ":2")) << show(r);
    EXPECT_FALSE(has(r.out + r.err, "sk-secret-test-value")) << show(r);
}

TEST(CommandsE2E, EnvFileVariablesAreSeenButDoNotOverrideTheEnvironment) {
    if (std::getenv("GEMINI_API_KEY") != nullptr) GTEST_SKIP() << "GEMINI_API_KEY is set here";
    TempDir tmp;
    fs::path env = tmp / "keys.env";
    // Whether some model that needs GEMINI_API_KEY reports it missing.
    auto gemini_missing = [](const CommandResult& r) {
        json j = json::parse(r.out);
        bool any = false;
        for (const auto& m : j) {
            bool needs = false;
            for (const auto& v : m["env_vars"]) needs |= v == "GEMINI_API_KEY";
            if (!needs) continue;
            for (const auto& why : m["missing"])
                any |= has(why.get<std::string>(), "GEMINI_API_KEY");
        }
        return any;
    };
    CommandResult without =
        vmeval::testkit::run_vmeval({"--env-file", env.string(), "models", "--json"});
    ASSERT_EQ(without.exit_code, 0) << show(without);
    ASSERT_TRUE(gemini_missing(without)) << "no catalog model needs GEMINI_API_KEY?";

    write_text(env, "export GEMINI_API_KEY='sk-secret-test-value'\n");
    CommandResult with =
        vmeval::testkit::run_vmeval({"--env-file", env.string(), "models", "--json"});
    ASSERT_EQ(with.exit_code, 0) << show(with);
    EXPECT_FALSE(gemini_missing(with)) << show(with);
    EXPECT_FALSE(has(with.out + with.err, "sk-secret-test-value"));

    // A variable already set (even empty) wins over the file, as with python-dotenv.
    CommandResult shadowed = vmeval::testkit::run_vmeval(
        {"--env-file", env.string(), "models", "--json"}, {"GEMINI_API_KEY="});
    ASSERT_EQ(shadowed.exit_code, 0) << show(shadowed);
    EXPECT_TRUE(gemini_missing(shadowed)) << show(shadowed);
}

TEST(CommandsE2E, ValidateExamplesExitsZero) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"validate", "--questions-dir", examples().string()});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(has(r.out, "7 valid")) << show(r);
}

TEST(CommandsE2E, ValidateBrokenTreeExitsOneNamingTheFile) {
    TempDir tmp;
    fs::path q = tmp / "q";
    make_question(q, "maze", "maze_0000", true, 32, 32);
    fs::path broken = make_question(q, "maze", "maze_0001", true, 32, 32);
    // A truncated final frame: only full decoding (which validate does) finds it.
    fs::resize_file(broken / "final_frame.png", fs::file_size(broken / "final_frame.png") / 2);
    fs::path empty_prompt = make_question(q, "rotation", "rotation_0000", true, 32, 32);
    write_text(empty_prompt / "prompt.txt", "");
    CommandResult r = vm(tmp, {"validate", "--questions-dir", q.string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_TRUE(has(r.out + r.err, (broken / "final_frame.png").string())) << show(r);
    EXPECT_TRUE(has(r.out + r.err, (empty_prompt / "prompt.txt").string())) << show(r);
    EXPECT_TRUE(has(r.out, "1 valid")) << show(r);
}

TEST(CommandsE2E, ValidateJsonReportsProblems) {
    TempDir tmp;
    fs::path q = tmp / "q";
    make_question(q, "maze", "maze_0000", true, 32, 32);
    fs::path broken = make_question(q, "maze", "maze_0001", true, 32, 32);
    fs::remove(broken / "first_frame.png");
    CommandResult r = vm(tmp, {"validate", "--json", "--questions-dir", q.string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    json j = json::parse(r.out);
    EXPECT_EQ(j["valid"], 1);
    EXPECT_EQ(j["invalid"], 1);
    ASSERT_EQ(j["problems"].size(), 1u);
    EXPECT_EQ(j["problems"][0]["file"], (broken / "first_frame.png").string());
}

TEST(CommandsE2E, ValidateMissingDirExitsTwo) {
    TempDir tmp;
    CommandResult r = vm(tmp, {"validate", "--questions-dir", (tmp / "missing").string()});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_TRUE(has(r.err, (tmp / "missing").string())) << show(r);
}
