// The command line parsed in process, without starting vmeval.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace {

using vmeval::cli::Options;

/// Environment variables the parser reads as defaults; unset so the machine cannot change results.
class CleanEnv {
public:
    CleanEnv() {
        for (const char* n : {"VMEVAL_QUESTIONS_DIR", "VMEVAL_OUTPUT_DIR", "VMEVAL_JOBS", "VMEVAL_DEVICE",
                              "VMEVAL_PRECISION"}) {
            ::unsetenv(n);
        }
    }
};

/// Parses `args` (without the program name); throws what CLI11 throws.
Options parse(const std::vector<std::string>& args) {
    CleanEnv clean;
    Options o;
    auto app = vmeval::cli::build_cli(o);
    std::vector<const char*> argv{"vmeval"};
    for (const auto& a : args) argv.push_back(a.c_str());
    app->parse(static_cast<int>(argv.size()), argv.data());
    return o;
}

/// Parses and reports whether the parser accepted the command line.
bool accepted(const std::vector<std::string>& args) {
    try {
        parse(args);
        return true;
    } catch (const CLI::ParseError&) {
        return false;
    }
}

}  // namespace

TEST(CliParse, GenerateDefaults) {
    Options o = parse({"generate"});
    const auto& g = o.generate;
    EXPECT_EQ(g.questions_dir, "questions");
    EXPECT_EQ(g.output_dir, "outputs");
    EXPECT_TRUE(g.models.empty());
    EXPECT_TRUE(g.task_ids.empty());
    EXPECT_TRUE(g.domains.empty());
    EXPECT_TRUE(g.params.empty());
    EXPECT_FALSE(g.dry_run);
    EXPECT_FALSE(g.force);
    EXPECT_FALSE(g.override_flag);
    EXPECT_FALSE(g.list_models);
    EXPECT_EQ(g.jobs, 1);
    EXPECT_EQ(g.seed, 42u);
    EXPECT_EQ(g.gpu, -1);
    EXPECT_EQ(o.verbose, 0);
    EXPECT_FALSE(o.quiet);
    EXPECT_FALSE(o.list_models);
    EXPECT_EQ(o.env_file, ".env");
}

TEST(CliParse, DeviceAndPrecisionForLocalModels) {
    auto o = parse({"generate"});
    EXPECT_EQ(o.generate.device, "auto");
    EXPECT_EQ(o.generate.precision, "auto");
    o = parse({"generate", "--device", "cuda:3", "--precision", "fp16"});
    EXPECT_EQ(o.generate.device, "cuda:3");
    EXPECT_EQ(o.generate.precision, "fp16");
    for (const char* ok : {"auto", "cpu", "cuda", "cuda:0", "cuda:15"}) EXPECT_TRUE(accepted({"generate", "--device", ok})) << ok;
    for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", "cuda:123456"})
        EXPECT_FALSE(accepted({"generate", "--device", bad})) << bad;
    EXPECT_FALSE(accepted({"generate", "--precision", "fp8"}));
    EXPECT_FALSE(accepted({"generate", "--precision", "half"}));
}

TEST(CliParse, GenerateDirectories) {
    Options o = parse({"generate", "--questions-dir", "/data/q", "--output-dir", "/data/out"});
    EXPECT_EQ(o.generate.questions_dir, "/data/q");
    EXPECT_EQ(o.generate.output_dir, "/data/out");
}

TEST(CliParse, ModelRepeatedAndCommaListsKeptAsGiven) {
    Options o = parse({"generate", "--model", "veo-3.0-generate", "--model",
                       "kling-v2.1,luma-ray-2", "-m", "wan-*"});
    EXPECT_EQ(o.generate.models,
              (std::vector<std::string>{"veo-3.0-generate", "kling-v2.1,luma-ray-2", "wan-*"}));
}

TEST(CliParse, OnlyModelIsAnAliasOfModel) {
    Options o = parse({"generate", "--only-model", "baseline-still"});
    EXPECT_EQ(o.generate.models, std::vector<std::string>{"baseline-still"});
}

TEST(CliParse, TaskIdTakesSeveralValues) {
    Options o =
        parse({"generate", "--task-id", "maze_0000", "maze_0001", "--task-id", "sorting_0000"});
    EXPECT_EQ(o.generate.task_ids,
              (std::vector<std::string>{"maze_0000", "maze_0001", "sorting_0000"}));
}

TEST(CliParse, DomainFilter) {
    Options o = parse({"generate", "--domain", "maze", "rotation_task"});
    EXPECT_EQ(o.generate.domains, (std::vector<std::string>{"maze", "rotation_task"}));
}

TEST(CliParse, Jobs) {
    EXPECT_EQ(parse({"generate", "--jobs", "4"}).generate.jobs, 4);
    EXPECT_EQ(parse({"generate", "-j", "8"}).generate.jobs, 8);
    EXPECT_EQ(parse({"generate", "--jobs=3"}).generate.jobs, 3);
}

TEST(CliParse, JobsZeroNegativeOrTextIsRejected) {
    EXPECT_THROW(parse({"generate", "--jobs", "0"}), CLI::ParseError);
    EXPECT_THROW(parse({"generate", "--jobs", "-2"}), CLI::ParseError);
    EXPECT_THROW(parse({"generate", "--jobs", "many"}), CLI::ParseError);
}

TEST(CliParse, JobsFromEnvironmentIsValidatedToo) {
    ::setenv("VMEVAL_JOBS", "0", 1);
    Options o;
    auto app = vmeval::cli::build_cli(o);
    const char* argv[] = {"vmeval", "generate"};
    EXPECT_THROW(app->parse(2, argv), CLI::ParseError);
    ::unsetenv("VMEVAL_JOBS");
}

TEST(CliParse, SeedTakesLargeValues) {
    EXPECT_EQ(parse({"generate", "--seed", "7"}).generate.seed, 7u);
    EXPECT_EQ(parse({"generate", "--seed", "18446744073709551615"}).generate.seed,
              18446744073709551615ull);
    EXPECT_THROW(parse({"generate", "--seed", "abc"}), CLI::ParseError);
}

TEST(CliParse, ParamsRepeatable) {
    Options o = parse({"generate", "--param", "frames=24", "--param", "fps=12"});
    EXPECT_EQ(o.generate.params, (std::vector<std::string>{"frames=24", "fps=12"}));
}

TEST(CliParse, Flags) {
    Options o = parse({"generate", "--dry-run", "--force", "--override"});
    EXPECT_TRUE(o.generate.dry_run);
    EXPECT_TRUE(o.generate.force);
    EXPECT_TRUE(o.generate.override_flag);
    EXPECT_FALSE(parse({"generate", "--override"}).generate.force);
}

TEST(CliParse, Gpu) {
    EXPECT_EQ(parse({"generate", "--gpu", "1"}).generate.gpu, 1);
    EXPECT_EQ(parse({"generate", "--gpu", "0"}).generate.gpu, 0);
    EXPECT_THROW(parse({"generate", "--gpu", "-1"}), CLI::ParseError);
    EXPECT_THROW(parse({"generate", "--gpu", "x"}), CLI::ParseError);
}

TEST(CliParse, ListModelsAtTopLevelAndInGenerate) {
    EXPECT_TRUE(parse({"--list-models"}).list_models);
    Options o = parse({"generate", "--list-models"});
    EXPECT_TRUE(o.generate.list_models);
}

TEST(CliParse, VerboseIsCounted) {
    EXPECT_EQ(parse({"-v", "generate"}).verbose, 1);
    EXPECT_EQ(parse({"-v", "-v", "generate"}).verbose, 2);
    EXPECT_EQ(parse({"-vv", "models"}).verbose, 2);
    EXPECT_EQ(parse({"--verbose", "-v", "-v", "generate"}).verbose, 3);
}

TEST(CliParse, GlobalOptionsAfterSubcommand) {
    Options o = parse({"generate", "-v", "-q", "--env-file", "my.env"});
    EXPECT_EQ(o.verbose, 1);
    EXPECT_TRUE(o.quiet);
    EXPECT_EQ(o.env_file, "my.env");
}

TEST(CliParse, ModelsJsonAndSelection) {
    Options o = parse({"models", "--json"});
    EXPECT_TRUE(o.models.json);
    EXPECT_TRUE(o.models.select.empty());
    Options s = parse({"models", "veo-*", "Kling"});
    EXPECT_FALSE(s.models.json);
    EXPECT_EQ(s.models.select, (std::vector<std::string>{"veo-*", "Kling"}));
}

TEST(CliParse, ValidateQuestionsDir) {
    Options o = parse({"validate", "--questions-dir", "X"});
    EXPECT_EQ(o.validate.questions_dir, "X");
    EXPECT_EQ(o.generate.questions_dir, "questions") << "generate's option is separate";
    Options d = parse({"validate"});
    EXPECT_EQ(d.validate.questions_dir, "questions");
    Options j = parse({"validate", "--json", "--task-id", "a", "b", "--domain", "maze"});
    EXPECT_TRUE(j.validate.json);
    EXPECT_EQ(j.validate.task_ids, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(j.validate.domains, std::vector<std::string>{"maze"});
}

TEST(CliParse, QuestionsDirFromEnvironment) {
    Options o;
    auto app = vmeval::cli::build_cli(o);
    ::setenv("VMEVAL_QUESTIONS_DIR", "/env/q", 1);
    const char* argv[] = {"vmeval", "generate"};
    app->parse(2, argv);
    ::unsetenv("VMEVAL_QUESTIONS_DIR");
    EXPECT_EQ(o.generate.questions_dir, "/env/q");
}

TEST(CliParse, NoSubcommandIsAccepted) { EXPECT_TRUE(accepted({})); }

TEST(CliParse, UnknownOptionsAndSubcommandsAreRejected) {
    EXPECT_FALSE(accepted({"generate", "--no-such-option"}));
    EXPECT_FALSE(accepted({"frobnicate"}));
    EXPECT_FALSE(accepted({"generate", "--jobs"}));
    EXPECT_FALSE(accepted({"generate", "stray-positional"}));
}

TEST(CliParse, VersionFlagAsksForVersion) {
    EXPECT_THROW(parse({"--version"}), CLI::CallForVersion);
}

TEST(CliParse, HelpAsksForHelp) { EXPECT_THROW(parse({"--help"}), CLI::CallForHelp); }
