#include "vmeval/runs/inference_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/batch_runner.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/mp4_writer.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using json = nlohmann::json;
using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::GenerationRequest;
using vmeval::GenerationResult;
using vmeval::InferenceRunner;
using vmeval::ModelWrapper;
using vmeval::RunOptions;
using vmeval::RunResult;
using vmeval::testkit::make_question;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_test_png;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;
namespace registry = vmeval::registry;
namespace questions = vmeval::questions;

registry::ModelInfo test_model(const char* name) {
    return registry::ModelInfo{name,
                               "Tests",
                               registry::Kind::Baseline,
                               registry::Backend::Baseline,
                               "",
                               "test stand-in",
                               "",
                               "",
                               {},
                               ""};
}
const registry::ModelInfo kFail = test_model("test-fail");
const registry::ModelInfo kGarbage = test_model("test-garbage");
const registry::ModelInfo kCancel = test_model("test-cancel");
const registry::ModelInfo kSlow = test_model("test-slow");
const registry::ModelInfo kThrowStd = test_model("test-throw-std");
const registry::ModelInfo kNothing = test_model("test-nothing");

const registry::ModelInfo& catalog(const char* name) {
    const registry::ModelInfo* m = registry::find_model(name);
    if (m == nullptr) throw std::runtime_error(std::string("catalog lacks ") + name);
    return *m;
}

/// Writes a short valid MP4 where the runner asked for it.
void write_tiny_video(const fs::path& path, int frames = 2) {
    vmeval::video::Mp4Writer w(path, vmeval::video::Mp4Options{});
    vmeval::video::Image img(16, 16);
    for (int i = 0; i < frames; ++i) w.add(img);
    w.finish();
}

class FailingWrapper : public ModelWrapper {
public:
    GenerationResult generate(const GenerationRequest&) override {
        throw Error(ErrorCode::Generation, "boom");
    }
};

class GarbageWrapper : public ModelWrapper {
public:
    GenerationResult generate(const GenerationRequest& r) override {
        write_text(r.video_path, "this is not an mp4 file at all, just bytes");
        return {};
    }
};

class NothingWrapper : public ModelWrapper {
public:
    GenerationResult generate(const GenerationRequest&) override { return {}; }
};

/// A local model's report: a video plus where it ran and its peak memory.
class ResourcesWrapper : public ModelWrapper {
public:
    GenerationResult generate(const GenerationRequest& r) override {
        write_tiny_video(r.video_path, 3);
        GenerationResult g;
        g.resources = {{"device", "cpu"}, {"precision", "fp32"}, {"peak_memory_bytes", 123456789},
                       {"peak_memory_kind", "rss"}};
        return g;
    }
};

class StdThrowWrapper : public ModelWrapper {
public:
    GenerationResult generate(const GenerationRequest&) override {
        throw std::runtime_error("unexpected");
    }
};

/// Starts writing a video, then sees the user's interrupt and gives up as a model should.
class CancellingWrapper : public ModelWrapper {
public:
    explicit CancellingWrapper(std::atomic<bool>* flag) : flag_(flag) {}
    GenerationResult generate(const GenerationRequest& r) override {
        write_text(r.video_path, "half a video");
        flag_->store(true);  // the user presses Ctrl-C while we work
        if (r.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
        throw Error(ErrorCode::Generation, "request.cancel did not reflect the interrupt");
    }

private:
    std::atomic<bool>* flag_;
};

/// Sleeps in generate() and records how many calls overlapped.
class SlowWrapper : public ModelWrapper {
public:
    explicit SlowWrapper(int limit) : limit_(limit) {}
    GenerationResult generate(const GenerationRequest& r) override {
        int now = ++active_;
        int seen = max_.load();
        while (now > seen && !max_.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        --active_;
        write_tiny_video(r.video_path);
        return {};
    }
    int max_concurrency() const override {
        return limit_ > 0 ? limit_ : ModelWrapper::max_concurrency();
    }
    int max_seen() const { return max_.load(); }

private:
    int limit_;
    std::atomic<int> active_{0};
    std::atomic<int> max_{0};
};

questions::Question find_question(const fs::path& root, const std::string& id) {
    auto d = questions::discover(root);
    for (const auto& q : d.questions) {
        if (q.id == id) return q;
    }
    ADD_FAILURE() << "no question " << id << " under " << root;
    return {};
}

/// Everything under `dir` (recursively), as paths relative to it.
std::vector<std::string> tree(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        out.push_back(fs::relative(e.path(), dir).string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
}

}  // namespace

// ---- run(): the library entry point ----------------------------------------------------------

TEST(InferenceRunnerRun, BaselineStillFilesRunUnderAdhocDomain) {
    TempDir dir;
    write_test_png(dir / "inputs" / "cat.png", 40, 30);
    InferenceRunner runner(dir / "out");
    EXPECT_EQ(runner.output_dir(), dir / "out");
    RunResult r = runner.run("baseline-still", dir / "inputs" / "cat.png", "The cat jumps.");
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_FALSE(r.error_code.has_value());
    EXPECT_EQ(r.run_dir, runs::task_dir(dir / "out", "baseline-still", "adhoc", "cat") / r.run_id);
    EXPECT_TRUE(runs::parse_run_id(r.run_id, "baseline-still", "cat").has_value()) << r.run_id;
    EXPECT_EQ(r.video_path, r.run_dir / "video" / "generated_video.mp4");
    auto probe = vmeval::video::probe_video(r.video_path);
    EXPECT_EQ(probe.width, 40);
    EXPECT_EQ(probe.height, 30);
    EXPECT_EQ(r.metadata["question"]["domain"], "adhoc");
    EXPECT_EQ(r.metadata["question"]["task_id"], "cat");
    EXPECT_EQ(r.metadata["question"]["prompt"], "The cat jumps.");
    EXPECT_GE(r.seconds, 0.0);
    EXPECT_FALSE(r.metadata["question"]["inputs"].contains("final_frame"));
}

TEST(InferenceRunnerRun, OptionsChooseDomainTaskIdFinalFrameAndGroundTruth) {
    TempDir dir;
    write_test_png(dir / "in" / "start.png", 32, 32);
    write_test_png(dir / "in" / "goal.png", 32, 32, 5);
    write_tiny_video(dir / "in" / "gt.mp4");
    InferenceRunner runner(dir / "out");
    RunOptions o;
    o.domain = "maze";
    o.task_id = "maze_0042";
    o.final_frame = dir / "in" / "goal.png";
    o.ground_truth = dir / "in" / "gt.mp4";
    RunResult r = runner.run("baseline-crossfade", dir / "in" / "start.png", "Go.", o);
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_EQ(r.run_dir.parent_path(),
              runs::task_dir(dir / "out", "baseline-crossfade", "maze", "maze_0042"));
    EXPECT_TRUE(fs::exists(r.run_dir / "question" / "final_frame.png"));
    EXPECT_TRUE(fs::exists(r.run_dir / "question" / "ground_truth.mp4"));
    EXPECT_TRUE(r.metadata["question"]["inputs"].contains("final_frame"));
}

TEST(InferenceRunnerRun, UnknownModelThrowsUsageErrorWithHint) {
    TempDir dir;
    write_test_png(dir / "a.png", 32, 32);
    InferenceRunner runner(dir / "out");
    try {
        runner.run("baseline-stil", dir / "a.png", "x");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Usage);
        std::string msg = e.what();
        EXPECT_NE(msg.find("baseline-stil"), std::string::npos) << msg;
        EXPECT_NE(msg.find("baseline-still"), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(InferenceRunnerRun, UnusableCatalogModelThrowsModelUnavailable) {
    TempDir dir;
    write_test_png(dir / "a.png", 32, 32);
    InferenceRunner runner(dir / "out");
    // Local models have no backend in this build.
    const registry::ModelInfo* local = nullptr;
    for (const auto& m : registry::all_models()) {
        if (m.kind == registry::Kind::Local && !registry::check_availability(m).usable) local = &m;
    }
    if (local == nullptr) GTEST_SKIP() << "every local model is usable in this build";
    try {
        runner.run(local->name, dir / "a.png", "x");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::ModelUnavailable) << e.what();
    }
}

TEST(InferenceRunnerRun, BadParamsThrowUsageError) {
    TempDir dir;
    write_test_png(dir / "a.png", 32, 32);
    InferenceRunner runner(dir / "out");
    RunOptions o;
    o.params = vmeval::Params::parse({"framez=3"});
    try {
        runner.run("baseline-still", dir / "a.png", "x", o);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Usage);
        EXPECT_NE(std::string(e.what()).find("framez"), std::string::npos) << e.what();
    }
}

TEST(InferenceRunnerRun, RecordedParamsMatchTheVideoOnEveryCall) {
    // One runner, two calls with different --param values: whatever the second run records in
    // metadata.json must describe the video it made.
    TempDir dir;
    write_test_png(dir / "a.png", 32, 32);
    InferenceRunner runner(dir / "out");
    RunOptions five;
    five.params = vmeval::Params::parse({"frames=5"});
    RunOptions nine;
    nine.params = vmeval::Params::parse({"frames=9"});
    RunResult r1 = runner.run("baseline-still", dir / "a.png", "x", five);
    ASSERT_TRUE(r1.success) << r1.error_message;
    EXPECT_EQ(r1.metadata["output"]["frames"], 5);
    RunResult r2;
    try {
        r2 = runner.run("baseline-still", dir / "a.png", "x", nine);
    } catch (const Error& e) {
        SUCCEED() << "refusing other params on a loaded model is acceptable: " << e.what();
        return;
    }
    ASSERT_TRUE(r2.success) << r2.error_message;
    EXPECT_EQ(r2.metadata["request"]["params"]["frames"], "9");
    EXPECT_EQ(r2.metadata["output"]["frames"], 9)
        << "metadata.json records request.params frames=9 but the video has "
        << r2.metadata["output"]["frames"] << " frames: the wrapper cached by the first call "
        << "(with frames=5) was reused with other params";
}

// ---- failures keep a run, refusals and cancellations leave nothing ---------------------------

TEST(InferenceRunnerFailures, GenerationErrorKeepsFailedRunWithoutVideo) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-fail", std::make_unique<FailingWrapper>());
    RunResult r = runner.run_question(kFail, q, {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Generation);
    EXPECT_NE(r.error_message.find("boom"), std::string::npos) << r.error_message;
    ASSERT_FALSE(r.run_dir.empty());
    EXPECT_TRUE(fs::is_directory(r.run_dir));
    EXPECT_TRUE(r.video_path.empty());
    EXPECT_TRUE(fs::is_empty(r.run_dir / "video"));
    EXPECT_EQ(r.metadata["status"], "failed");
    EXPECT_EQ(r.metadata["error"]["code"], "generation");
    EXPECT_TRUE(r.metadata["output"].is_null());
}

TEST(InferenceRunnerFailures, GarbageVideoBecomesFailedRunWithVideoCode) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-garbage", std::make_unique<GarbageWrapper>());
    RunResult r = runner.run_question(kGarbage, q, {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Video);
    ASSERT_FALSE(r.run_dir.empty());
    auto m = runs::read_metadata(r.run_dir);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ((*m)["status"], "failed");
    EXPECT_EQ((*m)["error"]["code"], "video");
    EXPECT_TRUE((*m)["output"].is_null());
    EXPECT_TRUE(fs::is_empty(r.run_dir / "video")) << "the garbage file must not be kept";
}

TEST(InferenceRunnerFailures, ModelWritingNoVideoFailsWithVideoCode) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-nothing", std::make_unique<NothingWrapper>());
    RunResult r = runner.run_question(kNothing, q, {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Video);
    EXPECT_FALSE(r.run_dir.empty());
}

TEST(InferenceRunnerRun, ResourcesOfLocalModelsReachMetadataOnlyWhenReported) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    const registry::ModelInfo local = test_model("test-resources");
    runner.use_wrapper("test-resources", std::make_unique<ResourcesWrapper>());
    RunResult r = runner.run_question(local, q, {});
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_EQ(r.metadata["resources"]["peak_memory_bytes"], 123456789);
    EXPECT_EQ(r.metadata["resources"]["device"], "cpu");
    RunResult still = runner.run("baseline-still", q.first_frame, "x");
    ASSERT_TRUE(still.success);
    EXPECT_FALSE(still.metadata.contains("resources"));
}

TEST(InferenceRunnerFailures, NonVmevalExceptionIsInternalFailedRun) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-throw-std", std::make_unique<StdThrowWrapper>());
    RunResult r = runner.run_question(kThrowStd, q, {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Internal);
    ASSERT_FALSE(r.run_dir.empty());
    EXPECT_EQ(r.metadata["error"]["code"], "internal");
    EXPECT_TRUE(fs::is_empty(r.run_dir / "video"));
}

TEST(InferenceRunnerFailures, CancelledInsideModelLeavesNoFolderAtAll) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    std::atomic<bool> cancel{false};
    runner.use_wrapper("test-cancel", std::make_unique<CancellingWrapper>(&cancel));
    RunOptions o;
    o.cancel = &cancel;
    RunResult r = runner.run_question(kCancel, q, o);
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Cancelled) << r.error_message;
    EXPECT_TRUE(r.run_dir.empty());
    fs::path tdir = runs::task_dir(dir / "out", "test-cancel", "maze", "maze_0001");
    EXPECT_EQ(joined(tree(tdir)), "") << "no run folder and no .partial-* may be left";
}

TEST(InferenceRunnerFailures, CancelledBeforeStartLeavesNoFolder) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    std::atomic<bool> cancel{true};
    RunOptions o;
    o.cancel = &cancel;
    RunResult r = runner.run_question(catalog("baseline-still"), q, o);
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Cancelled);
    EXPECT_TRUE(r.run_dir.empty());
    fs::path tdir = runs::task_dir(dir / "out", "baseline-still", "maze", "maze_0001");
    EXPECT_EQ(joined(tree(tdir)), "");
}

TEST(InferenceRunnerRefusals, CrossfadeWithoutFinalFrameIsRefusedWithoutRunFolder) {
    TempDir dir;
    make_question(dir / "q", "sorting", "sorting_0001", /*with_final=*/false);
    auto q = find_question(dir / "q", "sorting_0001");
    InferenceRunner runner(dir / "out");
    RunResult r = runner.run_question(catalog("baseline-crossfade"), q, {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::InvalidQuestion);
    EXPECT_NE(r.error_message.find("final_frame.png"), std::string::npos) << r.error_message;
    EXPECT_TRUE(r.run_dir.empty());
    EXPECT_TRUE(r.run_id.empty());
    EXPECT_EQ(joined(tree(dir / "out")), "");
}

TEST(InferenceRunnerRefusals, TruncatedFirstFrameIsRefusedWithoutRunFolder) {
    TempDir dir;
    fs::path tdir = make_question(dir / "q", "maze", "maze_0001", true, 64, 64);
    fs::path first = tdir / "first_frame.png";
    fs::resize_file(first, fs::file_size(first) / 2);
    questions::DiscoveryOptions dopts;  // header-only checks, as generate does
    auto d = questions::discover(dir / "q", dopts);
    ASSERT_EQ(d.questions.size(), 1u) << "the header is intact, so discovery keeps the question";
    InferenceRunner runner(dir / "out");
    RunResult r = runner.run_question(catalog("baseline-still"), d.questions[0], {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::InvalidQuestion) << r.error_message;
    EXPECT_NE(r.error_message.find("first_frame.png"), std::string::npos) << r.error_message;
    EXPECT_TRUE(r.run_dir.empty());
    EXPECT_EQ(joined(tree(dir / "out")), "");
}

TEST(InferenceRunnerRefusals, CorruptImageThroughRunIsRefused) {
    TempDir dir;
    write_text(dir / "broken.png", "\x89PNG\r\n\x1a\n garbage");
    InferenceRunner runner(dir / "out");
    RunResult r = runner.run("baseline-still", dir / "broken.png", "x");
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::InvalidQuestion);
    EXPECT_TRUE(r.run_dir.empty());
    EXPECT_EQ(joined(tree(dir / "out")), "");
}

// ---- concurrency -----------------------------------------------------------------------------

TEST(InferenceRunnerConcurrency, ParallelCallsOnOneQuestionGetDistinctRuns) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001", true, 32, 32);
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    RunOptions o;
    o.params = vmeval::Params::parse({"frames=2"});
    std::vector<RunResult> results(6);
    std::vector<std::thread> pool;
    for (size_t i = 0; i < results.size(); ++i) {
        pool.emplace_back(
            [&, i] { results[i] = runner.run_question(catalog("baseline-still"), q, o); });
    }
    for (auto& t : pool) t.join();
    std::set<std::string> ids;
    for (const auto& r : results) {
        EXPECT_TRUE(r.success) << r.error_message;
        ids.insert(r.run_id);
    }
    EXPECT_EQ(ids.size(), results.size());
    fs::path tdir = runs::task_dir(dir / "out", "baseline-still", "maze", "maze_0001");
    EXPECT_EQ(runs::list_runs(tdir, "baseline-still", "maze_0001").size(), results.size());
}

TEST(InferenceRunnerConcurrency, ModelAllowingOneCallIsSerialisedInBatch) {
    TempDir dir;
    for (int i = 0; i < 8; ++i)
        make_question(dir / "q", "maze", "maze_000" + std::to_string(i), false, 16, 16);
    InferenceRunner runner(dir / "out");
    auto slow = std::make_unique<SlowWrapper>(1);
    SlowWrapper* probe = slow.get();
    runner.use_wrapper("test-slow", std::move(slow));
    vmeval::BatchOptions b;
    b.questions_dir = dir / "q";
    b.output_dir = dir / "out";
    b.models = {&kSlow};
    b.jobs = 4;
    b.quiet = true;
    b.runner = &runner;
    auto report = vmeval::run_batch(b);
    EXPECT_EQ(report.exit_code, 0);
    EXPECT_EQ(report.summary["totals"]["success"], 8);
    EXPECT_EQ(probe->max_seen(), 1);
}

TEST(InferenceRunnerConcurrency, ModelWithoutLimitRunsInParallelInBatch) {
    TempDir dir;
    for (int i = 0; i < 8; ++i)
        make_question(dir / "q", "maze", "maze_000" + std::to_string(i), false, 16, 16);
    InferenceRunner runner(dir / "out");
    auto slow = std::make_unique<SlowWrapper>(0);
    SlowWrapper* probe = slow.get();
    runner.use_wrapper("test-slow", std::move(slow));
    vmeval::BatchOptions b;
    b.questions_dir = dir / "q";
    b.output_dir = dir / "out";
    b.models = {&kSlow};
    b.jobs = 4;
    b.quiet = true;
    b.runner = &runner;
    auto report = vmeval::run_batch(b);
    EXPECT_EQ(report.exit_code, 0);
    EXPECT_EQ(report.summary["totals"]["success"], 8);
    EXPECT_GT(probe->max_seen(), 1);
    EXPECT_LE(probe->max_seen(), 4);
}

TEST(InferenceRunnerConcurrency, ModelAllowingTwoCallsNeverExceedsTwo) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001", false, 16, 16);
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    auto slow = std::make_unique<SlowWrapper>(2);
    SlowWrapper* probe = slow.get();
    runner.use_wrapper("test-slow", std::move(slow));
    std::vector<std::thread> pool;
    std::atomic<int> ok{0};
    for (int i = 0; i < 6; ++i) {
        pool.emplace_back([&] { ok += runner.run_question(kSlow, q, {}).success ? 1 : 0; });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(ok.load(), 6);
    EXPECT_EQ(probe->max_seen(), 2);
}

TEST(InferenceRunnerWrapper, UseWrapperReplacesCatalogModel) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    InferenceRunner runner(dir / "out");
    runner.use_wrapper("baseline-still", std::make_unique<FailingWrapper>());
    RunResult r = runner.run_question(catalog("baseline-still"), q, {});
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::Generation);
}

TEST(InferenceRunnerWrapper, WrapperIsCreatedOnceAndReused) {
    TempDir dir;
    InferenceRunner runner(dir / "out");
    vmeval::ModelWrapper& a = runner.wrapper(catalog("baseline-still"), {});
    vmeval::ModelWrapper& b = runner.wrapper(catalog("baseline-still"), {});
    EXPECT_EQ(&a, &b);
    EXPECT_FALSE(a.needs_final_frame());
    EXPECT_TRUE(runner.wrapper(catalog("baseline-crossfade"), {}).needs_final_frame());
}
