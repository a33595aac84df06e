#include "vmeval/runs/batch_runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using json = nlohmann::json;
using vmeval::BatchOptions;
using vmeval::BatchReport;
using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::make_question;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;
namespace registry = vmeval::registry;

const registry::ModelInfo& catalog(const char* name) {
    const registry::ModelInfo* m = registry::find_model(name);
    if (m == nullptr) throw std::runtime_error(std::string("catalog lacks ") + name);
    return *m;
}

const registry::ModelInfo kFail{"test-fail",
                                "Tests",
                                registry::Kind::Baseline,
                                registry::Backend::Baseline,
                                "",
                                "fails on purpose",
                                "",
                                "",
                                {},
                                ""};

class FailingWrapper : public vmeval::ModelWrapper {
public:
    vmeval::GenerationResult generate(const vmeval::GenerationRequest&) override {
        throw Error(ErrorCode::Generation, "boom");
    }
};

BatchOptions options(const fs::path& questions, const fs::path& out,
                     std::vector<const registry::ModelInfo*> models = {}) {
    BatchOptions b;
    b.questions_dir = questions;
    b.output_dir = out;
    b.models = models.empty() ? std::vector<const registry::ModelInfo*>{&catalog("baseline-still")}
                              : models;
    b.quiet = true;
    b.params = vmeval::Params::parse({"frames=3"});
    b.command_line = {"vmeval", "generate", "--test"};
    return b;
}

/// Run folders (not partials) of one model and task.
size_t run_count(const fs::path& out, const std::string& model, const std::string& domain,
                 const std::string& id) {
    return runs::list_runs(runs::task_dir(out, model, domain, id), model, id).size();
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

}  // namespace

TEST(RunBatch, AllSucceedWritesSummaryAndLogAndExitsZero) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    make_question(dir / "q", "maze", "maze_0001", true, 32, 32);
    make_question(dir / "q", "sorting", "sorting_0000", false, 32, 32);
    BatchReport r = vmeval::run_batch(options(dir / "q", dir / "out"));
    EXPECT_EQ(r.exit_code, 0);

    // Summary file: <out>/_batches/<batch_id>.json, same content as the report.
    std::string batch_id = r.summary["batch_id"];
    EXPECT_FALSE(batch_id.empty());
    EXPECT_EQ(r.summary_path, dir / "out" / "_batches" / (batch_id + ".json"));
    ASSERT_TRUE(fs::exists(r.summary_path));
    json on_disk = json::parse(read_text(r.summary_path));
    EXPECT_EQ(on_disk, r.summary);
    EXPECT_EQ(r.log_path, dir / "out" / "_batches" / (batch_id + ".log"));

    const json& s = r.summary;
    EXPECT_EQ(s["schema"], "vmeval.batch/1");
    EXPECT_EQ(s["interrupted"], false);
    EXPECT_EQ(s["dry_run"], false);
    EXPECT_EQ(s["questions"], 3);
    EXPECT_EQ(s["invalid_questions"], 0);
    EXPECT_EQ(s["command"], (json{"vmeval", "generate", "--test"}));
    EXPECT_EQ(s["models"], (json{"baseline-still"}));
    EXPECT_EQ(s["totals"], (json{{"jobs", 3},
                                 {"success", 3},
                                 {"failed", 0},
                                 {"refused", 0},
                                 {"skipped", 0},
                                 {"not_run", 0}}));
    ASSERT_TRUE(s["by_model"].contains("baseline-still"));
    EXPECT_EQ(s["by_model"]["baseline-still"]["success"], 3);
    EXPECT_TRUE(s["problems"].is_array());
    EXPECT_TRUE(s["problems"].empty());
    ASSERT_EQ(s["jobs"].size(), 3u);
    std::set<std::string> ids;
    for (const auto& j : s["jobs"]) {
        EXPECT_EQ(j["model"], "baseline-still");
        EXPECT_EQ(j["status"], "success");
        EXPECT_EQ(j["plan"], "run");
        ASSERT_TRUE(j.contains("run_id"));
        ids.insert(j["run_id"].get<std::string>());
        fs::path run = runs::task_dir(dir / "out", "baseline-still", j["domain"], j["task_id"]) /
                       j["run_id"].get<std::string>();
        auto m = runs::read_metadata(run);
        ASSERT_TRUE(m.has_value()) << run;
        EXPECT_EQ((*m)["status"], "success");
        EXPECT_EQ((*m)["batch_id"], batch_id);
    }
    EXPECT_EQ(ids.size(), 3u);
}

TEST(RunBatch, LogFileIsWrittenBesideSummary) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    BatchReport r = vmeval::run_batch(options(dir / "q", dir / "out"));
    EXPECT_EQ(r.exit_code, 0);
    ASSERT_FALSE(r.log_path.empty());
    EXPECT_EQ(r.log_path.parent_path(), r.summary_path.parent_path());
    EXPECT_TRUE(fs::exists(r.log_path))
        << "BatchReport::log_path names " << r.log_path << " but no such file was written";
}

TEST(RunBatch, FailingModelGivesExitOneAndCountsFailures) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    make_question(dir / "q", "maze", "maze_0001", true, 32, 32);
    vmeval::InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-fail", std::make_unique<FailingWrapper>());
    auto o = options(dir / "q", dir / "out", {&catalog("baseline-still"), &kFail});
    o.runner = &runner;
    BatchReport r = vmeval::run_batch(o);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.summary["totals"]["jobs"], 4);
    EXPECT_EQ(r.summary["totals"]["success"], 2);
    EXPECT_EQ(r.summary["totals"]["failed"], 2);
    EXPECT_EQ(r.summary["by_model"]["test-fail"]["failed"], 2);
    EXPECT_EQ(r.summary["by_model"]["baseline-still"]["success"], 2);
    for (const auto& j : r.summary["jobs"]) {
        if (j["model"] != "test-fail") continue;
        EXPECT_EQ(j["status"], "failed");
        EXPECT_EQ(j["error"]["code"], "generation");
        EXPECT_TRUE(j.contains("run_id")) << "failed runs keep a folder";
    }
    EXPECT_EQ(run_count(dir / "out", "test-fail", "maze", "maze_0000"), 1u);
}

TEST(RunBatch, RefusedQuestionGivesExitOneAndNoRunFolder) {
    TempDir dir;
    make_question(dir / "q", "sorting", "sorting_0000", true, 32, 32);
    make_question(dir / "q", "sorting", "sorting_0001", false, 32, 32);
    BatchReport r =
        vmeval::run_batch(options(dir / "q", dir / "out", {&catalog("baseline-crossfade")}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.summary["totals"]["refused"], 1);
    EXPECT_EQ(r.summary["totals"]["success"], 1);
    for (const auto& j : r.summary["jobs"]) {
        if (j["task_id"] != "sorting_0001") continue;
        EXPECT_EQ(j["status"], "refused");
        EXPECT_EQ(j["error"]["code"], "invalid_question");
        EXPECT_FALSE(j.contains("run_id"));
    }
    EXPECT_EQ(run_count(dir / "out", "baseline-crossfade", "sorting", "sorting_0001"), 0u);
    EXPECT_FALSE(
        fs::exists(runs::task_dir(dir / "out", "baseline-crossfade", "sorting", "sorting_0001")));
}

TEST(RunBatch, BrokenQuestionInTheMiddleDoesNotStopOthers) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    fs::path broken = make_question(dir / "q", "maze", "maze_0001", true, 32, 32);
    write_text(broken / "prompt.txt", "");
    make_question(dir / "q", "maze", "maze_0002", true, 32, 32);
    BatchReport r = vmeval::run_batch(options(dir / "q", dir / "out"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.summary["totals"]["success"], 2);
    EXPECT_EQ(r.summary["invalid_questions"], 1);
    ASSERT_EQ(r.summary["problems"].size(), 1u);
    EXPECT_EQ(r.summary["problems"][0]["task_id"], "maze_0001");
    EXPECT_EQ(r.summary["problems"][0]["file"], (broken / "prompt.txt").string());
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0000"), 1u);
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0002"), 1u);
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0001"), 0u);
}

TEST(RunBatch, CorruptImageIsRefusedAndOthersRun) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    fs::path bad = make_question(dir / "q", "maze", "maze_0001", true, 64, 64);
    fs::resize_file(bad / "first_frame.png", fs::file_size(bad / "first_frame.png") / 2);
    make_question(dir / "q", "maze", "maze_0002", true, 32, 32);
    BatchReport r = vmeval::run_batch(options(dir / "q", dir / "out"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.summary["totals"]["success"], 2);
    EXPECT_EQ(r.summary["totals"]["refused"].get<int>() + r.summary["invalid_questions"].get<int>(),
              1);
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0001"), 0u);
}

TEST(RunBatch, CancelBeforeStartRunsNothingAndExits130) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    make_question(dir / "q", "maze", "maze_0001", true, 32, 32);
    std::atomic<bool> cancel{true};
    auto o = options(dir / "q", dir / "out");
    o.cancel = &cancel;
    o.jobs = 2;
    BatchReport r = vmeval::run_batch(o);
    EXPECT_EQ(r.exit_code, 130);
    EXPECT_EQ(r.summary["interrupted"], true);
    EXPECT_EQ(r.summary["totals"]["not_run"], 2);
    EXPECT_EQ(r.summary["totals"]["success"], 0);
    for (const auto& j : r.summary["jobs"]) EXPECT_EQ(j["status"], "not_run");
    EXPECT_TRUE(fs::exists(r.summary_path));
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0000"), 0u);
    EXPECT_TRUE(partials_under(dir / "out").empty());
}

TEST(RunBatch, ManyQuestionsWithParallelJobsAllSucceedWithUniqueRunIds) {
    TempDir dir;
    for (int i = 0; i < 12; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "maze_%04d", i);
        make_question(dir / "q", i % 2 ? "maze" : "rotation", id, true, 16, 16);
    }
    auto o = options(dir / "q", dir / "out");
    o.jobs = 4;
    BatchReport r = vmeval::run_batch(o);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.summary["totals"]["success"], 12);
    EXPECT_EQ(r.summary["jobs_in_parallel"], 4);
    std::set<std::string> ids;
    for (const auto& j : r.summary["jobs"]) ids.insert(j["run_id"].get<std::string>());
    EXPECT_EQ(ids.size(), 12u);
    EXPECT_TRUE(partials_under(dir / "out").empty());
}

TEST(RunBatch, SeveralModelsAreCountedSeparately) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    make_question(dir / "q", "maze", "maze_0001", false, 32, 32);
    auto o = options(dir / "q", dir / "out",
                     {&catalog("baseline-still"), &catalog("baseline-crossfade")});
    BatchReport r = vmeval::run_batch(o);
    EXPECT_EQ(r.exit_code, 1);  // crossfade refuses maze_0001
    EXPECT_EQ(r.summary["totals"]["jobs"], 4);
    EXPECT_EQ(r.summary["by_model"]["baseline-still"]["success"], 2);
    EXPECT_EQ(r.summary["by_model"]["baseline-crossfade"]["success"], 1);
    EXPECT_EQ(r.summary["by_model"]["baseline-crossfade"]["refused"], 1);
}

TEST(RunBatch, TaskIdFilterRunsOnlyThoseQuestions) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    make_question(dir / "q", "maze", "maze_0001", true, 32, 32);
    auto o = options(dir / "q", dir / "out");
    o.discovery.task_ids = {"maze_0001"};
    BatchReport r = vmeval::run_batch(o);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.summary["totals"]["jobs"], 1);
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0000"), 0u);
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0001"), 1u);
}

TEST(RunBatch, DryRunWritesNothing) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    auto o = options(dir / "q", dir / "out");
    o.dry_run = true;
    BatchReport r = vmeval::run_batch(o);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.summary_path.empty());
    EXPECT_EQ(r.summary["dry_run"], true);
    EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(RunBatch, NoModelOrZeroJobsIsUsageError) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    auto o = options(dir / "q", dir / "out");
    o.models.clear();
    try {
        vmeval::run_batch(o);
        ADD_FAILURE() << "no error without models";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Usage);
    }
    o = options(dir / "q", dir / "out");
    o.jobs = 0;
    try {
        vmeval::run_batch(o);
        ADD_FAILURE() << "no error for jobs 0";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Usage);
    }
    EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(RunBatch, MissingOrEmptyQuestionsDirIsConfigErrorNamingIt) {
    TempDir dir;
    for (fs::path qdir : {dir / "missing", dir / "empty"}) {
        if (qdir.filename() == "empty") fs::create_directories(qdir);
        try {
            vmeval::run_batch(options(qdir, dir / "out"));
            ADD_FAILURE() << "no error for " << qdir;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::Config) << e.what();
            EXPECT_NE(std::string(e.what()).find(qdir.string()), std::string::npos) << e.what();
        }
    }
    EXPECT_FALSE(fs::exists(dir / "out")) << "a batch that cannot start must write nothing";
}

TEST(RunBatch, UnusableModelStopsBatchBeforeAnyRun) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    const registry::ModelInfo* unusable = nullptr;
    for (const auto& m : registry::all_models()) {
        if (!registry::check_availability(m).usable) {
            unusable = &m;
            break;
        }
    }
    if (unusable == nullptr) GTEST_SKIP() << "every model is usable here";
    try {
        vmeval::run_batch(options(dir / "q", dir / "out", {&catalog("baseline-still"), unusable}));
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::ModelUnavailable) << e.what();
    }
    EXPECT_EQ(run_count(dir / "out", "baseline-still", "maze", "maze_0000"), 0u);
}

TEST(RunBatch, ParamsReachTheModel) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    auto o = options(dir / "q", dir / "out");
    o.params = vmeval::Params::parse({"frames=4", "fps=10"});
    o.seed = 7;
    BatchReport r = vmeval::run_batch(o);
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.summary["seed"], 7);
    const json& j = r.summary["jobs"][0];
    fs::path run = runs::task_dir(dir / "out", "baseline-still", "maze", "maze_0000") /
                   j["run_id"].get<std::string>();
    auto probe = vmeval::video::probe_video(run / "video" / "generated_video.mp4");
    EXPECT_EQ(probe.frames, 4);
    EXPECT_NEAR(probe.fps, 10.0, 1e-6);
    EXPECT_EQ((*runs::read_metadata(run))["request"]["seed"], 7);
}

TEST(PrintBatchSummary, WritesTableWithModelAndTotals) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000", true, 32, 32);
    BatchReport r = vmeval::run_batch(options(dir / "q", dir / "out"));
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    vmeval::print_batch_summary(r.summary, f);
    std::rewind(f);
    std::string text;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    EXPECT_NE(text.find("baseline-still"), std::string::npos) << text;
    EXPECT_NE(text.find(r.summary["batch_id"].get<std::string>()), std::string::npos) << text;
    EXPECT_NE(text.find("finished"), std::string::npos) << text;
}
