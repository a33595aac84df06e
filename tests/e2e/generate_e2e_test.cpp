// `vmeval generate` through the built binary, over the example questions and generated trees.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using json = nlohmann::json;
using vmeval::testkit::CommandResult;
using vmeval::testkit::make_question;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;

const char* const kSecret = "sk-secret-test-value";

fs::path examples() { return vmeval::testkit::source_dir() / "examples" / "questions"; }

/// The example questions: domain -> task ids.
const std::map<std::string, std::vector<std::string>> kExamples = {
    {"maze", {"maze_0000", "maze_0001", "maze_0002"}},
    {"rotation", {"rotation_0000", "rotation_0001"}},
    {"sorting", {"sorting_0000", "sorting_0001"}},
};

/// Runs `vmeval generate <args>` with no .env file from the working directory.
CommandResult generate(const TempDir& tmp, std::vector<std::string> args,
                       const std::vector<std::string>& env = {}) {
    std::vector<std::string> full{"--env-file", (tmp / "no-such.env").string(), "generate"};
    full.insert(full.end(), args.begin(), args.end());
    return vmeval::testkit::run_vmeval(full, env);
}

std::string show(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "\n--- stderr\n" +
           r.err;
}

/// Completed run folders of a model and task.
std::vector<std::string> run_ids(const fs::path& out, const std::string& model,
                                 const std::string& domain, const std::string& id) {
    std::vector<std::string> ids;
    for (const auto& r : runs::list_runs(runs::task_dir(out, model, domain, id), model, id)) {
        ids.push_back(r.run_id);
    }
    return ids;
}

/// Every path under `root` (relative), for before/after comparisons.
std::set<std::string> snapshot(const fs::path& root, bool skip_batches = true) {
    std::set<std::string> s;
    std::error_code ec;
    if (!fs::exists(root, ec)) return s;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        std::string rel = fs::relative(e.path(), root).string();
        if (skip_batches && rel.rfind(runs::kBatchesDir, 0) == 0) continue;
        s.insert(rel);
    }
    return s;
}

std::vector<fs::path> partials_under(const fs::path& root) {
    std::vector<fs::path> found;
    std::error_code ec;
    if (!fs::exists(root, ec)) return found;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.path().filename().string().rfind(runs::kPartialPrefix, 0) == 0)
            found.push_back(e.path());
    }
    return found;
}

/// Checks one published run: metadata says success and the video is what it recorded.
void expect_valid_run(const fs::path& run_dir) {
    auto m = runs::read_metadata(run_dir);
    ASSERT_TRUE(m.has_value()) << run_dir;
    EXPECT_EQ((*m)["status"], "success") << run_dir;
    fs::path video = run_dir / "video" / "generated_video.mp4";
    auto probe = vmeval::video::probe_video(video);
    EXPECT_EQ(probe.codec, "h264");
    EXPECT_EQ(probe.frames, (*m)["output"]["frames"].get<long long>()) << run_dir;
    EXPECT_EQ(static_cast<long long>(probe.bytes), (*m)["output"]["bytes"].get<long long>());
    EXPECT_TRUE(fs::exists(run_dir / "question" / "first_frame.png"));
    EXPECT_TRUE(fs::exists(run_dir / "question" / "prompt.txt"));
}

}  // namespace

TEST(GenerateE2E, DefaultModelOverExamplesSucceedsWithValidVideos) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r =
        generate(tmp, {"--questions-dir", examples().string(), "--output-dir", out.string()});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    size_t total = 0;
    for (const auto& [domain, ids] : kExamples) {
        for (const auto& id : ids) {
            auto found = run_ids(out, "baseline-still", domain, id);
            ASSERT_EQ(found.size(), 1u) << domain << "/" << id;
            fs::path run = runs::task_dir(out, "baseline-still", domain, id) / found[0];
            expect_valid_run(run);
            auto m = *runs::read_metadata(run);
            EXPECT_EQ(m["question"]["domain"], domain);
            EXPECT_EQ(m["question"]["task_id"], id);
            ++total;
        }
    }
    EXPECT_EQ(total, 7u);
    EXPECT_TRUE(partials_under(out).empty());
    auto s = vmeval::testkit::batch_summaries(out);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0]["totals"]["success"], 7);
    EXPECT_TRUE(fs::exists(out / "_batches" / (s[0]["batch_id"].get<std::string>() + ".log")));
    EXPECT_GT(fs::file_size(out / "_batches" / (s[0]["batch_id"].get<std::string>() + ".log")), 0u);
}

TEST(GenerateE2E, CrossfadeOverExamplesExitsOneAndRefusesSortingWithoutFinalFrame) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir",
                                     out.string(), "--model", "baseline-crossfade"});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find("sorting_0001"), std::string::npos) << show(r);
    EXPECT_TRUE(run_ids(out, "baseline-crossfade", "sorting", "sorting_0001").empty());
    EXPECT_FALSE(fs::exists(runs::task_dir(out, "baseline-crossfade", "sorting", "sorting_0001")));
    for (const auto& [domain, ids] : kExamples) {
        for (const auto& id : ids) {
            if (id == "sorting_0001") continue;
            auto found = run_ids(out, "baseline-crossfade", domain, id);
            ASSERT_EQ(found.size(), 1u) << id;
            expect_valid_run(runs::task_dir(out, "baseline-crossfade", domain, id) / found[0]);
        }
    }
    auto s = vmeval::testkit::batch_summaries(out);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0]["totals"]["refused"], 1);
    EXPECT_EQ(s[0]["totals"]["success"], 6);
}

TEST(GenerateE2E, RerunSkipsEverythingAndMakesNoNewFolders) {
    TempDir tmp;
    fs::path out = tmp / "out";
    std::vector<std::string> args{"--questions-dir", examples().string(), "--output-dir",
                                  out.string()};
    ASSERT_EQ(generate(tmp, args).exit_code, 0);
    auto before = snapshot(out);
    CommandResult again = generate(tmp, args);
    EXPECT_EQ(again.exit_code, 0) << show(again);
    EXPECT_EQ(snapshot(out), before);
    auto s = vmeval::testkit::batch_summaries(out);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[1]["totals"]["skipped"], 7);
    EXPECT_EQ(s[1]["totals"]["success"], 0);
}

TEST(GenerateE2E, ForceMakesNewRunsBesideOldOnes) {
    TempDir tmp;
    fs::path out = tmp / "out";
    std::vector<std::string> args{"--questions-dir", examples().string(), "--output-dir",
                                  out.string()};
    ASSERT_EQ(generate(tmp, args).exit_code, 0);
    auto first = run_ids(out, "baseline-still", "maze", "maze_0000");
    args.push_back("--force");
    CommandResult r = generate(tmp, args);
    EXPECT_EQ(r.exit_code, 0) << show(r);
    for (const auto& [domain, ids] : kExamples) {
        for (const auto& id : ids)
            EXPECT_EQ(run_ids(out, "baseline-still", domain, id).size(), 2u) << id;
    }
    auto now = run_ids(out, "baseline-still", "maze", "maze_0000");
    EXPECT_EQ(now.front(), first.front());
}

TEST(GenerateE2E, OverrideDeletesNothing) {
    TempDir tmp;
    fs::path out = tmp / "out";
    std::vector<std::string> base{"--questions-dir", examples().string(), "--output-dir",
                                  out.string()};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = base;
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    ASSERT_EQ(generate(tmp, with({"-m", "baseline-crossfade"})).exit_code, 1);
    ASSERT_EQ(generate(tmp, with({"-m", "baseline-still"})).exit_code, 0);
    auto crossfade_before = run_ids(out, "baseline-crossfade", "maze", "maze_0001");
    ASSERT_EQ(crossfade_before.size(), 1u);

    CommandResult r = generate(tmp, with({"--override", "-m", "baseline-still"}));
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_EQ(run_ids(out, "baseline-crossfade", "maze", "maze_0001"), crossfade_before);
    EXPECT_TRUE(fs::exists(runs::task_dir(out, "baseline-crossfade", "maze", "maze_0001") /
                           crossfade_before[0] / "video" / "generated_video.mp4"));
    for (const auto& [domain, ids] : kExamples) {
        for (const auto& id : ids) {
            EXPECT_EQ(run_ids(out, "baseline-still", domain, id).size(), 2u)
                << "--override must regenerate and keep the earlier run of " << id;
            if (id != "sorting_0001") {
                EXPECT_EQ(run_ids(out, "baseline-crossfade", domain, id).size(), 1u) << id;
            }
        }
    }
}

TEST(GenerateE2E, DryRunWritesNothingAtAll) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r =
        generate(tmp, {"--questions-dir", examples().string(), "--output-dir", out.string(),
                       "--dry-run", "-m", "baseline-still,baseline-crossfade"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_FALSE(fs::exists(out)) << "a dry run must not even create the output folder";
    EXPECT_NE(r.out.find("baseline-crossfade"), std::string::npos) << show(r);
}

TEST(GenerateE2E, DryRunAfterARunChangesNothing) {
    TempDir tmp;
    fs::path out = tmp / "out";
    std::vector<std::string> args{"--questions-dir", examples().string(), "--output-dir",
                                  out.string()};
    ASSERT_EQ(generate(tmp, args).exit_code, 0);
    auto before = snapshot(out, /*skip_batches=*/false);
    args.push_back("--dry-run");
    args.push_back("--force");
    EXPECT_EQ(generate(tmp, args).exit_code, 0);
    EXPECT_EQ(snapshot(out, false), before);
}

TEST(GenerateE2E, SecretsNeverReachOutputFiles) {
    TempDir tmp;
    fs::path q = tmp / "q";
    make_question(q, "maze", "maze_0000", true, 32, 32);
    make_question(q, "maze", "maze_0001", false, 32, 32);
    fs::path broken = make_question(q, "maze", "maze_0002", true, 32, 32);
    write_text(broken / "prompt.txt", "   \n");
    write_text(tmp / "secrets.env", std::string("OPENAI_API_KEY=") + kSecret + "-from-dotenv\n");
    fs::path out = tmp / "out";
    CommandResult r = vmeval::testkit::run_vmeval(
        {"-v", "--env-file", (tmp / "secrets.env").string(), "generate", "--questions-dir",
         q.string(), "--output-dir", out.string(), "-m", "baseline-still,baseline-crossfade"},
        {std::string("GEMINI_API_KEY=") + kSecret, std::string("KLING_SECRET_KEY=") + kSecret});
    EXPECT_EQ(r.exit_code, 1) << show(r);  // the broken question and crossfade's refusal
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(out)) {
        if (!e.is_regular_file()) continue;
        ++files;
        EXPECT_EQ(read_text(e.path()).find(kSecret), std::string::npos)
            << "secret leaked into " << e.path();
    }
    EXPECT_GE(files, 6u);  // metadata, videos, inputs, summary and log
    EXPECT_EQ(r.out.find(kSecret), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find(kSecret), std::string::npos) << show(r);
}

TEST(GenerateE2E, BrokenQuestionIsReportedAndOthersAreGenerated) {
    TempDir tmp;
    fs::path q = tmp / "q";
    make_question(q, "maze", "maze_0000", true, 32, 32);
    fs::path broken = make_question(q, "maze", "maze_0001", true, 32, 32);
    write_text(broken / "prompt.txt", "");
    make_question(q, "rotation", "rotation_0000", true, 32, 32);
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"--questions-dir", q.string(), "--output-dir", out.string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find((broken / "prompt.txt").string()), std::string::npos) << show(r);
    EXPECT_EQ(run_ids(out, "baseline-still", "maze", "maze_0000").size(), 1u);
    EXPECT_EQ(run_ids(out, "baseline-still", "rotation", "rotation_0000").size(), 1u);
    EXPECT_TRUE(run_ids(out, "baseline-still", "maze", "maze_0001").empty());
    auto s = vmeval::testkit::batch_summaries(out);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0]["invalid_questions"], 1);
}

TEST(GenerateE2E, ParallelJobsOverThirtyQuestionsGiveUniqueRuns) {
    TempDir tmp;
    fs::path q = tmp / "q";
    std::vector<std::pair<std::string, std::string>> all;
    for (int i = 0; i < 30; ++i) {
        std::string domain = i % 3 == 0 ? "maze" : i % 3 == 1 ? "rotation" : "sorting";
        char id[32];
        std::snprintf(id, sizeof id, "%s_%04d", domain.c_str(), i);
        make_question(q, domain, id, true, 16, 16);
        all.emplace_back(domain, id);
    }
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"--questions-dir", q.string(), "--output-dir", out.string(),
                                     "--jobs", "4", "--param", "frames=4"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    std::set<std::string> ids;
    for (const auto& [domain, id] : all) {
        auto found = run_ids(out, "baseline-still", domain, id);
        ASSERT_EQ(found.size(), 1u) << id;
        ids.insert(found[0]);
        expect_valid_run(runs::task_dir(out, "baseline-still", domain, id) / found[0]);
    }
    EXPECT_EQ(ids.size(), 30u);
    EXPECT_TRUE(partials_under(out).empty());
    auto s = vmeval::testkit::batch_summaries(out);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0]["totals"]["success"], 30);
    EXPECT_EQ(s[0]["jobs_in_parallel"], 4);
}

TEST(GenerateE2E, ParamsReachTheVideo) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r =
        generate(tmp, {"--questions-dir", examples().string(), "--output-dir", out.string(),
                       "--task-id", "maze_0000", "--param", "frames=5", "--param", "fps=12"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    auto found = run_ids(out, "baseline-still", "maze", "maze_0000");
    ASSERT_EQ(found.size(), 1u);
    auto probe =
        vmeval::video::probe_video(runs::task_dir(out, "baseline-still", "maze", "maze_0000") /
                                   found[0] / "video" / "generated_video.mp4");
    EXPECT_EQ(probe.frames, 5);
    EXPECT_NEAR(probe.fps, 12.0, 1e-6);
    EXPECT_EQ(probe.width, 256);
    EXPECT_EQ(probe.height, 192);
}

TEST(GenerateE2E, TaskIdAndDomainFilters) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir",
                                     out.string(), "--task-id", "maze_0001", "rotation_0000"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    EXPECT_EQ(run_ids(out, "baseline-still", "maze", "maze_0001").size(), 1u);
    EXPECT_EQ(run_ids(out, "baseline-still", "rotation", "rotation_0000").size(), 1u);
    EXPECT_TRUE(run_ids(out, "baseline-still", "maze", "maze_0000").empty());

    fs::path out2 = tmp / "out2";
    r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir", out2.string(),
                       "--domain", "sorting"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    EXPECT_EQ(run_ids(out2, "baseline-still", "sorting", "sorting_0001").size(), 1u);
    EXPECT_FALSE(fs::exists(out2 / "baseline-still" / "maze_task"));
}

TEST(GenerateE2E, BadParamsExitTwoNamingTheKey) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir",
                                     out.string(), "--param", "framez=5"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_NE(r.err.find("framez"), std::string::npos) << show(r);
    r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir", out.string(),
                       "--param", "frames=0"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_NE(r.err.find("frames"), std::string::npos) << show(r);
    r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir", out.string(),
                       "--param", "frames"});
    EXPECT_EQ(r.exit_code, 2) << show(r);
    EXPECT_FALSE(fs::exists(out / "baseline-still"));
}

TEST(GenerateE2E, GpuZeroIsAccepted) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"--questions-dir", examples().string(), "--output-dir",
                                     out.string(), "--gpu", "0", "--task-id", "maze_0000"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
}

TEST(GenerateE2E, QuietPrintsNoSummaryTable) {
    TempDir tmp;
    fs::path out = tmp / "out";
    CommandResult r = generate(tmp, {"-q", "--questions-dir", examples().string(), "--output-dir",
                                     out.string(), "--task-id", "maze_0000"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_EQ(r.out, "") << show(r);
}
