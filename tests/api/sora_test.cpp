// OpenAI Sora (openai-sora-2, openai-sora-2-pro) against the mock's Videos API: the multipart
// request, the exact-size input_reference, every failure path and the shutdown answer.
#include <gtest/gtest.h>
#include <stb_image.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "api/api_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/video/probe.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vmeval::ErrorCode;
using vmeval::testkit::MockApi;
using vmeval::testkit::TempDir;

/// Sets (or unsets, with nullopt) an environment variable for one scope.
using vmeval::testkit::ScopedEnv;

struct Outcome {
    vmeval::RunResult result;
    std::shared_ptr<vmeval::mock::Job> job;  ///< the mock's record of the job, when one was created
};

/// One generation of `model` on a w x h image through InferenceRunner.
Outcome generate(MockApi& api, const TempDir& tmp, const std::string& model, int w, int h,
                 const std::string& prompt = "Move the blue square to the goal.",
                 const std::map<std::string, std::string>& params = {}) {
    fs::path image = tmp / ("in_" + std::to_string(w) + "x" + std::to_string(h) + ".png");
    if (!fs::exists(image)) vmeval::testkit::write_test_png(image, w, h);
    vmeval::InferenceRunner runner(tmp / "out");
    vmeval::RunOptions options;
    for (const auto& [k, v] : params) options.params.set(k, v);
    Outcome run;
    run.result = runner.run(model, image, prompt, options);
    std::string id;
    if (run.result.metadata.is_object() && run.result.metadata["provider"].contains("job_id")) {
        id = run.result.metadata["provider"]["job_id"].get<std::string>();
    } else {
        std::smatch m;
        if (std::regex_search(run.result.error_message, m, std::regex("video_[0-9a-f-]+"))) {
            id = m.str();
        }
    }
    if (!id.empty()) run.job = api.context().find(id);
    return run;
}

void expect_failed(const Outcome& run, ErrorCode code, const std::string& text) {
    EXPECT_FALSE(run.result.success);
    ASSERT_TRUE(run.result.error_code.has_value()) << run.result.error_message;
    EXPECT_EQ(*run.result.error_code, code) << run.result.error_message;
    EXPECT_NE(run.result.error_message.find(text), std::string::npos) << run.result.error_message;
    // A failed run never leaves anything that looks like a video.
    if (!run.result.run_dir.empty()) {
        EXPECT_TRUE(fs::is_empty(run.result.run_dir / "video"));
    }
}

/// Width and height of an encoded image, from its header.
using vmeval::testkit::image_size;

using vmeval::testkit::factory_error;

}  // namespace

TEST(Sora, Sora2LandscapeSendsAnExactSizePngAndRecordsWhatItSent) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360);
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    auto probe = vmeval::video::probe_video(run.result.video_path);
    EXPECT_GT(probe.frames, 0);

    const json& p = run.result.metadata["parameters"];
    EXPECT_EQ(p["model"], "sora-2");
    EXPECT_EQ(p["size"], "1280x720");
    EXPECT_EQ(p["seconds"], "8");
    EXPECT_EQ(p["width"], 1280);
    EXPECT_EQ(p["height"], 720);
    EXPECT_EQ(p["input_reference"]["format"], "png");
    const json& prov = run.result.metadata["provider"];
    EXPECT_EQ(prov["final_state"], "completed");
    EXPECT_GE(prov["polls"].get<int>(), 1);

    ASSERT_TRUE(run.job);
    const json& req = run.job->request;
    EXPECT_EQ(req["model"], "sora-2");
    EXPECT_EQ(req["seconds"], "8");
    EXPECT_EQ(req["size"], "1280x720");
    EXPECT_EQ(req["prompt"], "Move the blue square to the goal.");
    EXPECT_EQ(req["input_reference"]["content_type"], "image/png");
    EXPECT_EQ(req["input_reference"]["width"], 1280);
    EXPECT_EQ(req["input_reference"]["height"], 720);
    EXPECT_FALSE(req["idempotency_key"].get<std::string>().empty());
    EXPECT_EQ(image_size(run.job->image), std::make_pair(1280, 720));
}

TEST(Sora, PortraitInputPicksThePortraitSize) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2", 360, 640);
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    EXPECT_EQ(run.result.metadata["parameters"]["size"], "720x1280");
    ASSERT_TRUE(run.job);
    EXPECT_EQ(run.job->request["size"], "720x1280");
    EXPECT_EQ(image_size(run.job->image), std::make_pair(720, 1280));
}

TEST(Sora, ProTakesItsLargerSizesAndOtherDurations) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2-pro", 640, 360, "Solve the maze.",
                           {{"size", "1024x1792"}, {"seconds", "12"}});
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    EXPECT_EQ(run.result.metadata["parameters"]["model"], "sora-2-pro");
    EXPECT_EQ(run.result.metadata["parameters"]["duration_s"], 12.0);
    ASSERT_TRUE(run.job);
    EXPECT_EQ(run.job->request["model"], "sora-2-pro");
    EXPECT_EQ(run.job->request["size"], "1024x1792");
    EXPECT_EQ(run.job->request["seconds"], "12");
    EXPECT_EQ(image_size(run.job->image), std::make_pair(1024, 1792));
}

TEST(Sora, BadParametersAndMissingKeyAreRefusedBeforeAnyRequest) {
    MockApi api;
    std::string msg;
    EXPECT_EQ(factory_error("openai-sora-2", {{"size", "1792x1024"}}, &msg), ErrorCode::Usage);
    EXPECT_NE(msg.find("1280x720, 720x1280"), std::string::npos) << msg;
    EXPECT_EQ(factory_error("openai-sora-2-pro", {{"size", "1920x1080"}}), ErrorCode::Usage);
    EXPECT_EQ(factory_error("openai-sora-2", {{"seconds", "5"}}), ErrorCode::Usage);
    EXPECT_EQ(factory_error("openai-sora-2", {{"duration", "8"}}), ErrorCode::Usage);
    ScopedEnv no_key("OPENAI_API_KEY", std::nullopt);
    EXPECT_EQ(factory_error("openai-sora-2", {}, &msg), ErrorCode::ModelUnavailable);
    EXPECT_NE(msg.find("OPENAI_API_KEY"), std::string::npos) << msg;
}

TEST(Sora, WrongKeyIsAConfigErrorNamingTheVariableNotTheKey) {
    auto o = MockApi::fast_options();
    o.required_key = "sk-the-only-good-key";
    MockApi api(o);
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360);
    expect_failed(run, ErrorCode::Config, "OPENAI_API_KEY");
    EXPECT_NE(run.result.error_message.find("401"), std::string::npos) << run.result.error_message;
    EXPECT_EQ(run.result.error_message.find(MockApi::kOpenAIKey), std::string::npos);
    EXPECT_EQ(run.result.metadata["error"]["code"], "config");
}

TEST(Sora, RateLimitedCreateIsRetried) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:create-429@1]");
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    EXPECT_GE(run.result.metadata["provider"]["retries"].get<int>(), 1);
}

TEST(Sora, PersistentServerErrorsEndAsHttp) {
    MockApi api;
    TempDir tmp;
    ScopedEnv fast("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:create-500@10]");
    expect_failed(run, ErrorCode::Http, "HTTP 500");
}

TEST(Sora, PollHiccupsAreRecovered) {
    MockApi api;
    TempDir tmp;
    ScopedEnv fast("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360,
                           "Go. [mock-fault:poll-500@1,poll-malformed@1]");
    ASSERT_TRUE(run.result.success) << run.result.error_message;
}

TEST(Sora, ModerationIsContentFiltered) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:moderation]");
    expect_failed(run, ErrorCode::ContentFiltered, "moderation_blocked");
    // The synchronous refusal (400 sentinel_block) is a content filter too.
    Outcome sync = generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:sentinel]");
    expect_failed(sync, ErrorCode::ContentFiltered, "sentinel_block");
}

TEST(Sora, FailedJobIsAGenerationError) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:job-failed]");
    expect_failed(run, ErrorCode::Generation, "video_generation_failed");
}

TEST(Sora, StuckJobTimesOutAndTriesToDeleteIt) {
    MockApi api;
    TempDir tmp;
    ScopedEnv timeout("VMEVAL_JOB_TIMEOUT_S", "0.5");
    Outcome run = generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:stuck]");
    expect_failed(run, ErrorCode::Timeout, "in_progress");
    ASSERT_TRUE(run.job);
    // OpenAI has no cancel: the best-effort DELETE is refused while the video is in progress.
    EXPECT_GE(run.job->request["delete_requests"].get<int>(), 1);
}

TEST(Sora, TruncatedDownloadFailsWithoutAVideo) {
    MockApi api;
    TempDir tmp;
    ScopedEnv fast("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    Outcome run =
        generate(api, tmp, "openai-sora-2", 640, 360, "Go. [mock-fault:download-truncate]");
    expect_failed(run, ErrorCode::Network, "");
}

TEST(Sora, ShutDownApiGivesAClearMessage) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "openai-sora-2-pro", 640, 360, "Go. [mock-fault:gone]");
    expect_failed(run, ErrorCode::Http, "OpenAI has shut down the Sora Videos API");
    EXPECT_NE(run.result.error_message.find("410"), std::string::npos) << run.result.error_message;
}

TEST(Sora, RealBinaryGeneratesAValidRun) {
    MockApi api;
    TempDir tmp;
    vmeval::testkit::make_question(tmp / "q", "maze", "maze_0000", true, 640, 360);
    auto r =
        vmeval::testkit::run_vmeval({"generate", "--questions-dir", (tmp / "q").string(),
                                     "--output-dir", (tmp / "out").string(), "-m", "openai-sora-2"},
                                    api.child_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::path task = tmp / "out" / "openai-sora-2" / "maze_task" / "maze_0000";
    ASSERT_TRUE(fs::is_directory(task));
    int runs = 0;
    for (const auto& e : fs::directory_iterator(task)) {
        std::ifstream in(e.path() / "metadata.json");
        json meta = json::parse(in);
        EXPECT_EQ(meta["status"], "success");
        EXPECT_EQ(meta["parameters"]["size"], "1280x720");
        EXPECT_GT(vmeval::video::probe_video(e.path() / "video" / "generated_video.mp4").frames, 0);
        ++runs;
    }
    EXPECT_EQ(runs, 1);
}
