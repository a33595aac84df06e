#include "vmeval/runs/resume.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/batch_runner.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace {

using json = nlohmann::json;
using vmeval::BatchOptions;
using vmeval::BatchReport;
using vmeval::testkit::make_question;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;
namespace registry = vmeval::registry;

const char* const kStill = "baseline-still";

const registry::ModelInfo& catalog(const char* name) {
    const registry::ModelInfo* m = registry::find_model(name);
    if (m == nullptr) throw std::runtime_error(std::string("catalog lacks ") + name);
    return *m;
}

const registry::ModelInfo kFlaky{"test-flaky",
                                 "Tests",
                                 registry::Kind::Baseline,
                                 registry::Backend::Baseline,
                                 "",
                                 "fails while told to",
                                 "",
                                 "",
                                 {},
                                 ""};

/// Fails while `failing` is set, otherwise writes a short valid video.
class FlakyWrapper : public vmeval::ModelWrapper {
public:
    explicit FlakyWrapper(std::atomic<bool>* failing) : failing_(failing) {}
    vmeval::GenerationResult generate(const vmeval::GenerationRequest& r) override {
        if (failing_->load())
            throw vmeval::Error(vmeval::ErrorCode::Generation, "provider said no");
        vmeval::video::Mp4Writer w(r.video_path, vmeval::video::Mp4Options{});
        vmeval::video::Image img(16, 16);
        w.add(img);
        w.add(img);
        w.finish();
        return {};
    }

private:
    std::atomic<bool>* failing_;
};

/// A small questions tree: two domains, three questions.
struct Fixture {
    TempDir dir;
    fs::path questions = dir / "questions";
    fs::path out = dir / "out";
    Fixture() {
        make_question(questions, "maze", "maze_0000", true, 32, 32);
        make_question(questions, "maze", "maze_0001", true, 32, 32);
        make_question(questions, "rotation", "rotation_0000", false, 32, 32);
    }
    BatchOptions options(const char* model = kStill) const {
        BatchOptions b;
        b.questions_dir = questions;
        b.output_dir = out;
        b.models = {&catalog(model)};
        b.quiet = true;
        b.params = vmeval::Params::parse({"frames=3"});
        return b;
    }
    fs::path tdir(const std::string& domain, const std::string& id,
                  const std::string& model = kStill) const {
        return runs::task_dir(out, model, domain, id);
    }
    std::vector<runs::RunName> listed(const std::string& domain, const std::string& id,
                                      const std::string& model = kStill) const {
        return runs::list_runs(tdir(domain, id, model), model, id);
    }
};

const json* job_for(const json& summary, const std::string& task_id) {
    for (const auto& j : summary["jobs"]) {
        if (j["task_id"] == task_id) return &j;
    }
    return nullptr;
}

std::vector<std::string> statuses(const json& summary) {
    std::vector<std::string> s;
    for (const auto& j : summary["jobs"]) s.push_back(j["status"]);
    return s;
}

}  // namespace

// ---- latest_run ------------------------------------------------------------------------------

TEST(LatestRun, NoRunsGivesNothing) {
    TempDir dir;
    EXPECT_FALSE(runs::latest_run(dir / "missing", kStill, "maze_0000").has_value());
    fs::create_directories(dir / "task");
    EXPECT_FALSE(runs::latest_run(dir / "task", kStill, "maze_0000").has_value());
}

TEST(LatestRun, SuccessfulRunIsDone) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past.has_value());
    EXPECT_TRUE(past->success) << past->why;
    EXPECT_EQ(past->dir, f.tdir("maze", "maze_0000") / past->run_id);
}

TEST(LatestRun, PicksNewestRun) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto o = f.options();
    o.force = true;
    ASSERT_EQ(vmeval::run_batch(o).exit_code, 0);
    auto all = f.listed("maze", "maze_0000");
    ASSERT_EQ(all.size(), 2u);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past.has_value());
    EXPECT_EQ(past->run_id, all.back().run_id);
}

TEST(LatestRun, TruncatedVideoIsNotSuccess) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    fs::path video = past->dir / "video" / "generated_video.mp4";
    fs::resize_file(video, fs::file_size(video) / 2);
    auto again = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(again->success);
    EXPECT_FALSE(again->why.empty());
}

TEST(LatestRun, VideoWithAppendedBytesIsNotSuccess) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    fs::path video = past->dir / "video" / "generated_video.mp4";
    write_text(video, read_text(video) + std::string(100, '\0'));
    auto again = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(again->success);
}

TEST(LatestRun, DeletedVideoIsNotSuccess) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    fs::remove(past->dir / "video" / "generated_video.mp4");
    auto again = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(again->success);
}

TEST(LatestRun, GarbageOrMissingMetadataIsNotSuccess) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    write_text(past->dir / "metadata.json", "{\"schema\": \"vmeval.run/1\", \"status\": \"succ");
    auto garbage = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(garbage.has_value());
    EXPECT_FALSE(garbage->success);
    fs::remove(past->dir / "metadata.json");
    auto missing = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(missing.has_value());
    EXPECT_FALSE(missing->success);
}

TEST(LatestRun, SuccessStatusWithoutOutputIsNotSuccess) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    auto m = *runs::read_metadata(past->dir);
    m["output"] = nullptr;
    runs::write_metadata(past->dir, m);
    auto again = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(again->success);
}

// Found by tests/fuzz/metadata_fuzz.cpp: a metadata.json with a field of the wrong type threw
// nlohmann::type_error out of latest_run (or converted a huge float to int, undefined behaviour)
// instead of making the run count as not done.
TEST(LatestRun, WrongTypesInMetadataAreNotSuccess) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto past = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    const json good = *runs::read_metadata(past->dir);
    const std::vector<std::pair<std::string, json>> edits = {
        {"/schema", 5},
        {"/status", 5},
        {"/status", json::array()},
        {"/output/frames", "16"},
        {"/output/frames", 1e300},
        {"/output/bytes", -1e300},
        {"/output/bytes", json::object()},
    };
    for (const auto& [where, value] : edits) {
        SCOPED_TRACE(where + " = " + value.dump());
        json m = good;
        m[json::json_pointer(where)] = value;
        runs::write_metadata(past->dir, m);
        std::optional<runs::PastRun> again;
        ASSERT_NO_THROW(again = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000"));
        ASSERT_TRUE(again.has_value());
        EXPECT_FALSE(again->success);
        EXPECT_FALSE(again->why.empty());
    }
    json failed = good;
    failed["status"] = "failed";
    failed["error"] = {{"code", "generation"}, {"message", 42}};
    runs::write_metadata(past->dir, failed);
    std::optional<runs::PastRun> again;
    ASSERT_NO_THROW(again = runs::latest_run(f.tdir("maze", "maze_0000"), kStill, "maze_0000"));
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(again->success);
    EXPECT_EQ(again->why, "failed");
}

TEST(LatestRun, FailedRunIsNotSuccessAndSaysWhy) {
    Fixture f;
    std::atomic<bool> failing{true};
    vmeval::InferenceRunner runner(f.out);
    runner.use_wrapper("test-flaky", std::make_unique<FlakyWrapper>(&failing));
    auto o = f.options();
    o.models = {&kFlaky};
    o.runner = &runner;
    ASSERT_EQ(vmeval::run_batch(o).exit_code, 1);
    auto past =
        runs::latest_run(f.tdir("maze", "maze_0000", "test-flaky"), "test-flaky", "maze_0000");
    ASSERT_TRUE(past.has_value());
    EXPECT_FALSE(past->success);
    EXPECT_NE(past->why.find("provider said no"), std::string::npos) << past->why;
}

TEST(LatestRun, PartialFoldersNeverCount) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    fs::path tdir = f.tdir("maze", "maze_0000");
    auto past = runs::latest_run(tdir, kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    // A newer, failed run exists only as a partial: it must not be seen at all.
    std::string newer = runs::make_run_id(kStill, "maze_0000", "29991231_235959", 1);
    fs::create_directories(tdir / (std::string(runs::kPartialPrefix) + newer) / "video");
    runs::write_metadata(tdir / (std::string(runs::kPartialPrefix) + newer),
                         {{"schema", "vmeval.run/1"}, {"status", "failed"}});
    auto again = runs::latest_run(tdir, kStill, "maze_0000");
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->run_id, past->run_id);
    EXPECT_TRUE(again->success);
}

TEST(LatestRun, CompleteLookingPartialIsNotARun) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    fs::path tdir = f.tdir("maze", "maze_0000");
    auto past = runs::latest_run(tdir, kStill, "maze_0000");
    ASSERT_TRUE(past && past->success);
    // Turn the only run back into a partial: the question has no run any more.
    fs::rename(past->dir, tdir / (std::string(runs::kPartialPrefix) + past->run_id));
    EXPECT_FALSE(runs::latest_run(tdir, kStill, "maze_0000").has_value());
}

// ---- resuming batches ------------------------------------------------------------------------

TEST(ResumeBatch, SecondBatchSkipsEverythingAndMakesNoFolders) {
    Fixture f;
    BatchReport first = vmeval::run_batch(f.options());
    ASSERT_EQ(first.exit_code, 0);
    EXPECT_EQ(first.summary["totals"]["success"], 3);

    BatchReport second = vmeval::run_batch(f.options());
    EXPECT_EQ(second.exit_code, 0);
    EXPECT_EQ(second.summary["totals"]["skipped"], 3);
    EXPECT_EQ(second.summary["totals"]["success"], 0);
    EXPECT_EQ(statuses(second.summary),
              (std::vector<std::string>{"skipped", "skipped", "skipped"}));
    for (const auto& j : second.summary["jobs"]) {
        EXPECT_EQ(j["plan"], "skip");
        EXPECT_TRUE(j.contains("previous_run"));
    }
    EXPECT_EQ(f.listed("maze", "maze_0000").size(), 1u);
    EXPECT_EQ(f.listed("maze", "maze_0001").size(), 1u);
    EXPECT_EQ(f.listed("rotation", "rotation_0000").size(), 1u);
}

TEST(ResumeBatch, ForceMakesNewRunsAndKeepsOldOnes) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto before = f.listed("maze", "maze_0000");
    ASSERT_EQ(before.size(), 1u);
    auto o = f.options();
    o.force = true;
    BatchReport forced = vmeval::run_batch(o);
    EXPECT_EQ(forced.exit_code, 0);
    EXPECT_EQ(forced.summary["totals"]["success"], 3);
    EXPECT_EQ(forced.summary["totals"]["skipped"], 0);
    auto after = f.listed("maze", "maze_0000");
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after.front().run_id, before.front().run_id);
    EXPECT_TRUE(fs::exists(f.tdir("maze", "maze_0000") / before.front().run_id / "metadata.json"));
    EXPECT_EQ(f.listed("rotation", "rotation_0000").size(), 2u);
}

TEST(ResumeBatch, FailedLatestRunIsRetried) {
    Fixture f;
    std::atomic<bool> failing{true};
    vmeval::InferenceRunner runner(f.out);
    runner.use_wrapper("test-flaky", std::make_unique<FlakyWrapper>(&failing));
    auto o = f.options();
    o.models = {&kFlaky};
    o.runner = &runner;
    o.params = {};
    BatchReport first = vmeval::run_batch(o);
    EXPECT_EQ(first.exit_code, 1);
    EXPECT_EQ(first.summary["totals"]["failed"], 3);
    std::string failed_run = (*job_for(first.summary, "maze_0000"))["run_id"];

    failing = false;
    BatchReport second = vmeval::run_batch(o);
    EXPECT_EQ(second.exit_code, 0);
    const json* j = job_for(second.summary, "maze_0000");
    ASSERT_NE(j, nullptr);
    EXPECT_EQ((*j)["plan"], "retry");
    EXPECT_EQ((*j)["status"], "success");
    EXPECT_EQ((*j)["previous_run"], failed_run);
    EXPECT_EQ(f.listed("maze", "maze_0000", "test-flaky").size(), 2u) << "the failed run is kept";

    BatchReport third = vmeval::run_batch(o);
    EXPECT_EQ(third.summary["totals"]["skipped"], 3);
}

TEST(ResumeBatch, TruncatedVideoIsRegeneratedNotSkipped) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto first = f.listed("maze", "maze_0000");
    fs::path video =
        f.tdir("maze", "maze_0000") / first[0].run_id / "video" / "generated_video.mp4";
    fs::resize_file(video, fs::file_size(video) - 50);
    BatchReport again = vmeval::run_batch(f.options());
    EXPECT_EQ(again.exit_code, 0);
    const json* j = job_for(again.summary, "maze_0000");
    ASSERT_NE(j, nullptr);
    EXPECT_NE((*j)["plan"], "skip");
    EXPECT_EQ((*j)["status"], "success");
    EXPECT_EQ(again.summary["totals"]["skipped"], 2);
    EXPECT_EQ(f.listed("maze", "maze_0000").size(), 2u);
}

TEST(ResumeBatch, DeletedVideoIsRegenerated) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto first = f.listed("rotation", "rotation_0000");
    fs::remove(f.tdir("rotation", "rotation_0000") / first[0].run_id / "video" /
               "generated_video.mp4");
    BatchReport again = vmeval::run_batch(f.options());
    EXPECT_EQ(again.exit_code, 0);
    const json* j = job_for(again.summary, "rotation_0000");
    ASSERT_NE(j, nullptr);
    EXPECT_EQ((*j)["status"], "success");
    EXPECT_EQ(f.listed("rotation", "rotation_0000").size(), 2u);
}

TEST(ResumeBatch, GarbageMetadataMakesRunNotCount) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto first = f.listed("maze", "maze_0001");
    write_text(f.tdir("maze", "maze_0001") / first[0].run_id / "metadata.json", "garbage");
    BatchReport again = vmeval::run_batch(f.options());
    const json* j = job_for(again.summary, "maze_0001");
    ASSERT_NE(j, nullptr);
    EXPECT_EQ((*j)["status"], "success");
    EXPECT_EQ(f.listed("maze", "maze_0001").size(), 2u);
}

TEST(ResumeBatch, PartialFolderIsNotTreatedAsDone) {
    Fixture f;
    // A completed-looking run that never got published (the process died before the rename).
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    fs::path tdir = f.tdir("maze", "maze_0000");
    auto first = f.listed("maze", "maze_0000");
    fs::rename(tdir / first[0].run_id,
               tdir / (std::string(runs::kPartialPrefix) + first[0].run_id));
    BatchReport again = vmeval::run_batch(f.options());
    const json* j = job_for(again.summary, "maze_0000");
    ASSERT_NE(j, nullptr);
    EXPECT_EQ((*j)["plan"], "run");
    EXPECT_EQ((*j)["status"], "success");
    EXPECT_EQ(f.listed("maze", "maze_0000").size(), 1u);
}

TEST(ResumeBatch, DryRunReportsPlansWithoutWriting) {
    Fixture f;
    ASSERT_EQ(vmeval::run_batch(f.options()).exit_code, 0);
    auto first = f.listed("maze", "maze_0000");
    fs::remove(f.tdir("maze", "maze_0000") / first[0].run_id / "video" / "generated_video.mp4");
    auto batches_before =
        std::distance(fs::directory_iterator(f.out / "_batches"), fs::directory_iterator{});
    auto o = f.options();
    o.dry_run = true;
    BatchReport dry = vmeval::run_batch(o);
    EXPECT_EQ(dry.exit_code, 0);
    EXPECT_TRUE(dry.summary_path.empty());
    EXPECT_EQ((*job_for(dry.summary, "maze_0000"))["plan"], "retry");
    EXPECT_EQ((*job_for(dry.summary, "maze_0001"))["plan"], "skip");
    EXPECT_EQ(std::distance(fs::directory_iterator(f.out / "_batches"), fs::directory_iterator{}),
              batches_before);
    EXPECT_EQ(f.listed("maze", "maze_0000").size(), 1u);
}
