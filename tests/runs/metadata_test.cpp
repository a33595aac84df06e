#include "vmeval/runs/metadata.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/core/version.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/batch_runner.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/video/mp4_writer.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using json = nlohmann::json;
using vmeval::testkit::make_question;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;
namespace registry = vmeval::registry;
namespace questions = vmeval::questions;

const char* const kSecret = "sk-secret-test-value";

const std::regex kIso(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

questions::Question find_question(const fs::path& root, const std::string& id) {
    auto d = questions::discover(root);
    for (const auto& q : d.questions) {
        if (q.id == id) return q;
    }
    ADD_FAILURE() << "no question " << id << " under " << root;
    return {};
}

const registry::ModelInfo& model(const char* name) {
    const registry::ModelInfo* m = registry::find_model(name);
    if (m == nullptr) throw std::runtime_error(std::string("catalog lacks ") + name);
    return *m;
}

/// A stand-in model that always fails like a provider error would.
class FailingWrapper : public vmeval::ModelWrapper {
public:
    vmeval::GenerationResult generate(const vmeval::GenerationRequest&) override {
        throw vmeval::Error(vmeval::ErrorCode::Generation, "boom");
    }
};

const registry::ModelInfo kFailInfo{"test-fail",
                                    "Tests",
                                    registry::Kind::Baseline,
                                    registry::Backend::Baseline,
                                    "",
                                    "fails on purpose",
                                    "",
                                    "",
                                    {},
                                    ""};

std::vector<fs::path> all_files(const fs::path& root) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file()) files.push_back(e.path());
    }
    return files;
}

std::set<std::string> entry_names(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

/// Sets an environment variable for one test.
using vmeval::testkit::ScopedEnv;

}  // namespace

// ---- read/write ------------------------------------------------------------------------------

TEST(Metadata, SchemaIdentifier) { EXPECT_STREQ(runs::kMetadataSchema, "vmeval.run/1"); }

TEST(Metadata, WriteThenReadRoundTrips) {
    TempDir dir;
    json m = {{"schema", "vmeval.run/1"}, {"status", "success"}, {"n", 3}};
    runs::write_metadata(dir.path(), m);
    auto back = runs::read_metadata(dir.path());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, m);
    EXPECT_EQ(entry_names(dir.path()), std::set<std::string>{"metadata.json"});
}

TEST(Metadata, WrittenWithTwoSpaceIndentation) {
    TempDir dir;
    runs::write_metadata(dir.path(), {{"schema", "vmeval.run/1"}});
    std::string text = read_text(dir / "metadata.json");
    EXPECT_EQ(text, "{\n  \"schema\": \"vmeval.run/1\"\n}\n");
}

TEST(Metadata, ReadGivesNothingForMissingGarbageOrForeignFiles) {
    TempDir dir;
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
    write_text(dir / "metadata.json", "this is not json {");
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
    write_text(dir / "metadata.json", "");
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
    write_text(dir / "metadata.json", "[1, 2, 3]");
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
    write_text(dir / "metadata.json", R"({"schema": "vmeval.run/2", "status": "success"})");
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
    write_text(dir / "metadata.json", R"({"status": "success"})");
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
    write_text(dir / "metadata.json", R"({"schema": "vmeval.run/1", "status": "succ)");
    EXPECT_FALSE(runs::read_metadata(dir.path()).has_value());
}

TEST(Metadata, HostAndVmevalInfo) {
    json h = runs::host_info();
    char name[256] = {0};
    gethostname(name, sizeof name - 1);
    EXPECT_EQ(h.value("hostname", ""), std::string(name));
    EXPECT_EQ(h.value("pid", -1L), static_cast<long>(getpid()));
    EXPECT_FALSE(h.value("os", "").empty());
    json v = runs::vmeval_info();
    EXPECT_EQ(v.value("version", ""), std::string(vmeval::version()));
    EXPECT_EQ(v.value("git_commit", ""), std::string(vmeval::git_commit()));
    EXPECT_FALSE(v.value("git_commit", "").empty());
}

// ---- what a run records ----------------------------------------------------------------------

TEST(RunMetadata, SuccessfulRunRecordsDocumentedFields) {
    TempDir dir;
    fs::path qroot = dir / "questions";
    make_question(qroot, "maze", "maze_0001", true, 64, 48);
    write_text(qroot / "maze_task" / "maze_0001" / "prompt.txt", "  Move the square.\n\n");
    auto q = find_question(qroot, "maze_0001");
    vmeval::InferenceRunner runner(dir / "out");
    vmeval::RunOptions opts;
    opts.seed = 1234;
    opts.batch_id = "20260101_000000_1";
    vmeval::RunResult r = runner.run_question(model("baseline-still"), q, opts);
    ASSERT_TRUE(r.success) << r.error_message;

    auto read = runs::read_metadata(r.run_dir);
    ASSERT_TRUE(read.has_value());
    const json& m = *read;
    EXPECT_EQ(m, r.metadata) << "RunResult::metadata differs from metadata.json";

    EXPECT_EQ(m["schema"], "vmeval.run/1");
    EXPECT_EQ(m["run_id"], r.run_id);
    EXPECT_EQ(r.run_dir.filename().string(), r.run_id);
    EXPECT_EQ(m["status"], "success");
    EXPECT_TRUE(m["error"].is_null());
    EXPECT_EQ(m.value("batch_id", ""), "20260101_000000_1");

    // output
    const json& out = m["output"];
    ASSERT_TRUE(out.is_object());
    fs::path video = r.run_dir / "video" / "generated_video.mp4";
    EXPECT_EQ(r.video_path, video);
    EXPECT_EQ(out["video"], "video/generated_video.mp4");
    EXPECT_EQ(out["codec"], "h264");
    EXPECT_EQ(out["width"], 64);
    EXPECT_EQ(out["height"], 48);
    EXPECT_EQ(out["frames"], 16);
    EXPECT_DOUBLE_EQ(out["fps"].get<double>(), 8.0);
    EXPECT_NEAR(out["duration_s"].get<double>(), 2.0, 1e-6);
    EXPECT_EQ(out["bytes"].get<long long>(), static_cast<long long>(fs::file_size(video)));
    EXPECT_EQ(out["sha256"], vmeval::sha256_file(video));
    auto probe = vmeval::video::probe_video(video);
    EXPECT_EQ(out["frames"].get<long long>(), probe.frames);

    // question and its inputs
    const json& qm = m["question"];
    EXPECT_EQ(qm["domain"], "maze");
    EXPECT_EQ(qm["task_id"], "maze_0001");
    EXPECT_EQ(qm["prompt"], "Move the square.");
    const json& in = qm["inputs"];
    EXPECT_EQ(in["first_frame"]["sha256"], vmeval::sha256_file(q.first_frame));
    EXPECT_EQ(in["first_frame"]["sha256"],
              vmeval::sha256_file(r.run_dir / "question" / "first_frame.png"));
    EXPECT_EQ(in["first_frame"]["path"], "question/first_frame.png");
    EXPECT_EQ(in["first_frame"]["width"], 64);
    EXPECT_EQ(in["first_frame"]["height"], 48);
    EXPECT_EQ(in["first_frame"]["bytes"].get<long long>(),
              static_cast<long long>(fs::file_size(q.first_frame)));
    EXPECT_EQ(in["prompt"]["sha256"], vmeval::sha256_hex("Move the square."));
    EXPECT_EQ(in["prompt"]["sha256"], vmeval::sha256_file(r.run_dir / "question" / "prompt.txt"));
    ASSERT_TRUE(in.contains("final_frame"));
    EXPECT_EQ(in["final_frame"]["sha256"], vmeval::sha256_file(q.final_frame));
    EXPECT_EQ(in["final_frame"]["path"], "question/final_frame.png");

    // model
    const json& mm = m["model"];
    EXPECT_EQ(mm["name"], "baseline-still");
    EXPECT_EQ(mm["family"], model("baseline-still").family);
    EXPECT_EQ(mm["kind"], "baseline");
    EXPECT_TRUE(mm["provider_model_id"].is_string());

    // timings
    const json& t = m["timings"];
    std::string started = t["started_at"];
    std::string finished = t["finished_at"];
    EXPECT_TRUE(std::regex_match(started, kIso)) << started;
    EXPECT_TRUE(std::regex_match(finished, kIso)) << finished;
    EXPECT_LE(started, finished);
    EXPECT_GE(t["duration_s"].get<double>(), 0.0);
    ASSERT_TRUE(t["phases"].is_object());
    for (const char* phase : {"prepare", "generate", "probe"}) {
        ASSERT_TRUE(t["phases"].contains(phase)) << phase;
        EXPECT_GE(t["phases"][phase].get<double>(), 0.0);
    }

    // host, vmeval, request
    EXPECT_TRUE(m["host"].is_object());
    EXPECT_TRUE(m["host"].contains("hostname"));
    EXPECT_EQ(m["vmeval"]["version"], vmeval::version());
    EXPECT_EQ(m["vmeval"]["git_commit"], vmeval::git_commit());
    EXPECT_EQ(m["request"]["seed"], 1234);
    EXPECT_TRUE(m["request"]["params"].is_object());
    EXPECT_TRUE(m["request"]["params"].empty());
}

TEST(RunMetadata, RequestRecordsParams) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    vmeval::InferenceRunner runner(dir / "out");
    vmeval::RunOptions opts;
    opts.params = vmeval::Params::parse({"frames=5", "fps=12"});
    auto r = runner.run_question(model("baseline-still"), q, opts);
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_EQ(r.metadata["request"]["params"], (json{{"frames", "5"}, {"fps", "12"}}));
    EXPECT_EQ(r.metadata["request"]["seed"], 42);
    EXPECT_EQ(r.metadata["output"]["frames"], 5);
    EXPECT_DOUBLE_EQ(r.metadata["output"]["fps"].get<double>(), 12.0);
}

TEST(RunMetadata, RunFolderHoldsVideoQuestionAndMetadataOnly) {
    TempDir dir;
    fs::path tdir = make_question(dir / "q", "maze", "maze_0001");
    {
        vmeval::video::Mp4Writer gt(tdir / "ground_truth.mp4", vmeval::video::Mp4Options{});
        vmeval::video::Image img(32, 32);
        gt.add(img);
        gt.add(img);
        gt.finish();
    }
    auto q = find_question(dir / "q", "maze_0001");
    ASSERT_FALSE(q.ground_truth.empty());
    vmeval::InferenceRunner runner(dir / "out");
    auto r = runner.run_question(model("baseline-still"), q, {});
    ASSERT_TRUE(r.success) << r.error_message;

    EXPECT_EQ(r.run_dir,
              runs::task_dir(dir / "out", "baseline-still", "maze", "maze_0001") / r.run_id);
    EXPECT_EQ(entry_names(r.run_dir),
              (std::set<std::string>{"contact_sheet.png", "metadata.json", "question", "video"}));
    EXPECT_EQ(entry_names(r.run_dir / "video"), std::set<std::string>{"generated_video.mp4"});
    EXPECT_EQ(entry_names(r.run_dir / "question"),
              (std::set<std::string>{"first_frame.png", "prompt.txt", "final_frame.png",
                                     "ground_truth.mp4"}));
    EXPECT_EQ(read_text(r.run_dir / "question" / "first_frame.png"), read_text(q.first_frame));
    EXPECT_EQ(read_text(r.run_dir / "question" / "final_frame.png"), read_text(q.final_frame));
    EXPECT_EQ(read_text(r.run_dir / "question" / "ground_truth.mp4"), read_text(q.ground_truth));
    EXPECT_EQ(read_text(r.run_dir / "question" / "prompt.txt"), q.prompt);
    const json& gt = r.metadata["question"]["inputs"]["ground_truth"];
    EXPECT_EQ(gt["sha256"], vmeval::sha256_file(q.ground_truth));
}

TEST(RunMetadata, QuestionWithoutFinalFrameRecordsNone) {
    TempDir dir;
    make_question(dir / "q", "sorting", "sorting_0001", /*with_final=*/false);
    auto q = find_question(dir / "q", "sorting_0001");
    vmeval::InferenceRunner runner(dir / "out");
    auto r = runner.run_question(model("baseline-still"), q, {});
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_FALSE(r.metadata["question"]["inputs"].contains("final_frame"));
    EXPECT_EQ(entry_names(r.run_dir / "question"),
              (std::set<std::string>{"first_frame.png", "prompt.txt"}));
}

TEST(RunMetadata, FailedRunRecordsErrorAndHasEmptyVideoFolder) {
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0001");
    auto q = find_question(dir / "q", "maze_0001");
    vmeval::InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-fail", std::make_unique<FailingWrapper>());
    auto r = runner.run_question(kFailInfo, q, {});
    EXPECT_FALSE(r.success);
    ASSERT_FALSE(r.run_dir.empty()) << "a failed generation keeps its run folder";
    EXPECT_TRUE(r.video_path.empty());

    auto m = runs::read_metadata(r.run_dir);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ((*m)["status"], "failed");
    ASSERT_TRUE((*m)["error"].is_object());
    EXPECT_EQ((*m)["error"]["code"], "generation");
    EXPECT_NE((*m)["error"]["message"].get<std::string>().find("boom"), std::string::npos);
    EXPECT_TRUE((*m)["output"].is_null());
    EXPECT_EQ((*m)["model"]["name"], "test-fail");
    EXPECT_EQ((*m)["question"]["inputs"]["first_frame"]["sha256"],
              vmeval::sha256_file(q.first_frame));
    ASSERT_TRUE(fs::is_directory(r.run_dir / "video"));
    EXPECT_TRUE(fs::is_empty(r.run_dir / "video"));
}

TEST(RunMetadata, SecretsFromEnvironmentAppearInNoOutputFile) {
    ScopedEnv gemini("GEMINI_API_KEY", kSecret);
    ScopedEnv openai("OPENAI_API_KEY", kSecret);
    TempDir dir;
    make_question(dir / "q", "maze", "maze_0000");
    make_question(dir / "q", "maze", "maze_0001");
    vmeval::InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-fail", std::make_unique<FailingWrapper>());
    vmeval::BatchOptions b;
    b.questions_dir = dir / "q";
    b.output_dir = dir / "out";
    b.models = {&model("baseline-still"), &kFailInfo};
    b.quiet = true;
    b.runner = &runner;
    b.command_line = {"vmeval", "generate"};
    auto report = vmeval::run_batch(b);
    EXPECT_EQ(report.exit_code, 1);  // the failing model
    auto files = all_files(dir / "out");
    ASSERT_GE(files.size(), 5u);
    for (const auto& f : files) {
        EXPECT_EQ(read_text(f).find(kSecret), std::string::npos) << "secret leaked into " << f;
    }
}
