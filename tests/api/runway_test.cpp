// Runway (runway-gen4-turbo, runway-gen3a-turbo; runway-gen4-aleph refused) against the mock's
// developer API: headers, the padded data-URI image, ratio choice, prompt rules and failures.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stb_image.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>

#include "api/api_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/video/image.hpp"
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
    std::shared_ptr<vmeval::mock::Job>
        job;  ///< the mock's record of the task, when one was created
};

Outcome generate(MockApi& api, const TempDir& tmp, const std::string& model, int w, int h,
                 const std::string& prompt = "Move the blue square to the goal.",
                 const std::map<std::string, std::string>& params = {},
                 std::uint64_t seed = vmeval::kDefaultSeed) {
    fs::path image = tmp / ("in_" + std::to_string(w) + "x" + std::to_string(h) + ".png");
    if (!fs::exists(image)) vmeval::testkit::write_test_png(image, w, h);
    vmeval::InferenceRunner runner(tmp / "out");
    vmeval::RunOptions options;
    options.seed = seed;
    for (const auto& [k, v] : params) options.params.set(k, v);
    Outcome run;
    run.result = runner.run(model, image, prompt, options);
    std::string id;
    if (run.result.metadata.is_object() && run.result.metadata["provider"].contains("job_id")) {
        id = run.result.metadata["provider"]["job_id"].get<std::string>();
    } else {
        std::smatch m;
        if (std::regex_search(run.result.error_message, m, std::regex("task-[0-9a-f-]+"))) {
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
    if (!run.result.run_dir.empty()) {
        EXPECT_TRUE(fs::is_empty(run.result.run_dir / "video"));
    }
}

using vmeval::testkit::image_size;

using vmeval::testkit::factory_error;

/// A valid image_to_video body, for requests made by hand.
json valid_body(const std::string& model) {
    return {{"model", model},
            {"promptImage", "https://example.com/frame.png"},
            {"promptText", "Go."},
            {"ratio", "1280:720"},
            {"duration", 5}};
}

}  // namespace

TEST(Runway, Gen4TurboSendsAPaddedPngDataUriWithTheVersionHeader) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360);
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    EXPECT_GT(vmeval::video::probe_video(run.result.video_path).frames, 0);

    const json& p = run.result.metadata["parameters"];
    EXPECT_EQ(p["model"], "gen4_turbo");
    EXPECT_EQ(p["ratio"], "1280:720");
    EXPECT_EQ(p["duration"], 5);
    EXPECT_EQ(p["seed"], 42);
    EXPECT_EQ(p["width"], 1280);
    EXPECT_EQ(p["height"], 720);
    EXPECT_EQ(p["prompt_image"]["format"], "png");
    EXPECT_EQ(run.result.metadata["provider"]["final_state"], "SUCCEEDED");

    ASSERT_TRUE(run.job);
    const json& req = run.job->request;
    EXPECT_EQ(req["x_runway_version"], "2024-11-06");
    EXPECT_EQ(req["model"], "gen4_turbo");
    EXPECT_EQ(req["ratio"], "1280:720");
    EXPECT_EQ(req["duration"], 5);
    EXPECT_EQ(req["seed"], 42);
    EXPECT_EQ(req["promptText"], "Move the blue square to the goal.");
    EXPECT_EQ(req["promptImage"]["kind"], "data");
    EXPECT_EQ(req["promptImage"]["mime"], "image/png");
    EXPECT_EQ(image_size(run.job->image), std::make_pair(1280, 720));
}

TEST(Runway, RatioFollowsTheInputAspectLikeTheOriginal) {
    MockApi api;
    TempDir tmp;
    struct Case {
        const char* model;
        int w, h;
        const char* ratio;
    };
    const Case cases[] = {
        {"runway-gen4-turbo", 640, 360, "1280:720"},
        {"runway-gen4-turbo", 360, 640, "720:1280"},
        {"runway-gen4-turbo", 500, 500, "960:960"},
        {"runway-gen4-turbo", 480, 360, "1104:832"},
        {"runway-gen4-turbo", 1000, 400, "1584:672"},
        {"runway-gen3a-turbo", 640, 360, "1280:768"},
        {"runway-gen3a-turbo", 360, 640, "768:1280"},
        // gen3a_turbo has no square ratio: a square image goes to the nearer one, portrait.
        {"runway-gen3a-turbo", 500, 500, "768:1280"},
    };
    for (const Case& c : cases) {
        Outcome run = generate(api, tmp, c.model, c.w, c.h);
        ASSERT_TRUE(run.result.success) << c.model << " " << run.result.error_message;
        ASSERT_TRUE(run.job);
        EXPECT_EQ(run.job->request["ratio"], c.ratio) << c.model << " " << c.w << "x" << c.h;
        int rw = 0, rh = 0;
        std::sscanf(c.ratio, "%d:%d", &rw, &rh);
        EXPECT_EQ(image_size(run.job->image), std::make_pair(rw, rh)) << c.ratio;
    }
}

TEST(Runway, ParametersOverrideRatioDurationAndSeed) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360, "Go.",
                           {{"ratio", "960:960"}, {"duration", "10"}}, 4294967295ull + 7);
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    ASSERT_TRUE(run.job);
    EXPECT_EQ(run.job->request["ratio"], "960:960");
    EXPECT_EQ(run.job->request["duration"], 10);
    EXPECT_EQ(run.job->request["seed"], 7);  // Runway's seeds stop at 2^32 - 1
    EXPECT_EQ(run.result.metadata["parameters"]["seed"], 7);
}

TEST(Runway, BadParametersAndMissingKeyAreRefusedBeforeAnyRequest) {
    MockApi api;
    std::string msg;
    EXPECT_EQ(factory_error("runway-gen4-turbo", {{"ratio", "1920:1080"}}, &msg), ErrorCode::Usage);
    EXPECT_NE(msg.find("1280:720"), std::string::npos) << msg;
    EXPECT_EQ(factory_error("runway-gen3a-turbo", {{"ratio", "1280:720"}}), ErrorCode::Usage);
    EXPECT_EQ(factory_error("runway-gen4-turbo", {{"duration", "7"}}), ErrorCode::Usage);
    EXPECT_EQ(factory_error("runway-gen4-turbo", {{"seconds", "5"}}), ErrorCode::Usage);
    ScopedEnv no_key("RUNWAYML_API_SECRET", std::nullopt);
    EXPECT_EQ(factory_error("runway-gen4-turbo", {}, &msg), ErrorCode::ModelUnavailable);
    EXPECT_NE(msg.find("RUNWAYML_API_SECRET"), std::string::npos) << msg;
}

TEST(Runway, PromptRulesAreCheckedBeforeAnyRequest) {
    MockApi api;
    TempDir tmp;
    // The fault would make any request that reached the mock fail as http, not invalid_question.
    std::string too_long = "[mock-fault:create-500]" + std::string(1000, 'x');
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360, too_long);
    expect_failed(run, ErrorCode::InvalidQuestion, "1000");
    EXPECT_TRUE(run.result.metadata["provider"].empty());

    // Runway counts UTF-16 units: 500 two-byte letters and 500 ASCII ones are exactly 1000.
    std::string fits;
    for (int i = 0; i < 500; ++i) fits += "\xc3\xa9";
    fits += std::string(500, 'a');
    Outcome ok = generate(api, tmp, "runway-gen4-turbo", 640, 360, fits);
    EXPECT_TRUE(ok.result.success) << ok.result.error_message;
    // One emoji is two units: 999 + 2 is one too many.
    Outcome over = generate(api, tmp, "runway-gen4-turbo", 640, 360,
                            std::string(999, 'a') + "\xf0\x9f\x99\x82");
    expect_failed(over, ErrorCode::InvalidQuestion, "1001");

    Outcome empty = generate(api, tmp, "runway-gen3a-turbo", 640, 360, "");
    expect_failed(empty, ErrorCode::InvalidQuestion, "requires a prompt");
}

TEST(Runway, AlephIsRefusedWithItsReasonAndTheMockRejectsIt) {
    MockApi api;
    std::string msg;
    EXPECT_EQ(factory_error("runway-gen4-aleph", {}, &msg), ErrorCode::ModelUnavailable);
    EXPECT_NE(msg.find("video-to-video"), std::string::npos) << msg;
    EXPECT_NE(msg.find("runway-gen4-turbo"), std::string::npos) << msg;

    // What the original sent, and what Runway answers to it.
    httplib::Client cli(api.url());
    httplib::Headers h = {{"Authorization", std::string("Bearer ") + MockApi::kRunwayKey},
                          {"X-Runway-Version", "2024-11-06"}};
    auto res = cli.Post("/runway/v1/image_to_video", h, valid_body("gen4_aleph").dump(),
                        "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(json::parse(res->body)["error"].get<std::string>().find("video_to_video"),
              std::string::npos);
}

TEST(Runway, MockChecksTheVersionHeaderAndTheDataUriLimit) {
    MockApi api;
    httplib::Client cli(api.url());
    const std::string auth = std::string("Bearer ") + MockApi::kRunwayKey;
    auto res = cli.Post("/runway/v1/image_to_video", {{"Authorization", auth}},
                        valid_body("gen4_turbo").dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("X-Runway-Version"), std::string::npos) << res->body;

    json big = valid_body("gen4_turbo");
    big["promptImage"] = "data:image/png;base64," + std::string(5 * 1024 * 1024, 'A');
    res = cli.Post("/runway/v1/image_to_video",
                   {{"Authorization", auth}, {"X-Runway-Version", "2024-11-06"}}, big.dump(),
                   "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("5 MB"), std::string::npos) << res->body;
}

TEST(Runway, NoisyWidestFrameStillFitsTheDataUriLimit) {
    // The worst case for PNG: incompressible noise at the largest ratio (1584x672).
    MockApi api;
    TempDir tmp;
    vmeval::video::Image noise(1584, 672);
    std::mt19937 rng(7);
    for (auto& b : noise.rgb) b = static_cast<std::uint8_t>(rng());
    vmeval::video::write_png(tmp / "in_1584x672.png", noise);
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 1584, 672);
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    ASSERT_TRUE(run.job);
    EXPECT_LE(run.job->request["promptImage"]["uri_bytes"].get<size_t>(), 5u * 1024 * 1024);
    EXPECT_EQ(run.job->request["ratio"], "1584:672");
}

TEST(Runway, WrongKeyIsAConfigErrorNamingTheVariableNotTheKey) {
    auto o = MockApi::fast_options();
    o.required_key = "rw-the-only-good-key";
    MockApi api(o);
    TempDir tmp;
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360);
    expect_failed(run, ErrorCode::Config, "RUNWAYML_API_SECRET");
    EXPECT_EQ(run.result.error_message.find(MockApi::kRunwayKey), std::string::npos);
}

TEST(Runway, RateLimitedCreateIsRetried) {
    MockApi api;
    TempDir tmp;
    Outcome run =
        generate(api, tmp, "runway-gen4-turbo", 640, 360, "Go. [mock-fault:create-429@1]");
    ASSERT_TRUE(run.result.success) << run.result.error_message;
    EXPECT_GE(run.result.metadata["provider"]["retries"].get<int>(), 1);
}

TEST(Runway, PersistentServerErrorsEndAsHttp) {
    MockApi api;
    TempDir tmp;
    ScopedEnv fast("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    Outcome run =
        generate(api, tmp, "runway-gen4-turbo", 640, 360, "Go. [mock-fault:create-500@10]");
    expect_failed(run, ErrorCode::Http, "HTTP 500");
}

TEST(Runway, PollHiccupsAndThrottlingAreRecovered) {
    MockApi api;
    TempDir tmp;
    ScopedEnv fast("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360,
                           "Go. [mock-fault:poll-500@1,poll-malformed@1,throttled@1]");
    ASSERT_TRUE(run.result.success) << run.result.error_message;
}

TEST(Runway, SafetyFailureIsContentFiltered) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360, "Go. [mock-fault:moderation]");
    expect_failed(run, ErrorCode::ContentFiltered, "SAFETY.INPUT.IMAGE");
}

TEST(Runway, FailedTaskIsAGenerationErrorWithItsCode) {
    MockApi api;
    TempDir tmp;
    Outcome run = generate(api, tmp, "runway-gen3a-turbo", 640, 360, "Go. [mock-fault:job-failed]");
    expect_failed(run, ErrorCode::Generation, "INTERNAL.BAD_OUTPUT.CODE01");
}

TEST(Runway, StuckTaskTimesOutAndIsCancelled) {
    MockApi api;
    TempDir tmp;
    ScopedEnv timeout("VMEVAL_JOB_TIMEOUT_S", "0.5");
    Outcome run = generate(api, tmp, "runway-gen4-turbo", 640, 360, "Go. [mock-fault:stuck]");
    expect_failed(run, ErrorCode::Timeout, "RUNNING");
    ASSERT_TRUE(run.job);
    EXPECT_TRUE(run.job->cancelled);  // DELETE /v1/tasks/{id} went out
}

TEST(Runway, TruncatedDownloadFailsWithoutAVideo) {
    MockApi api;
    TempDir tmp;
    ScopedEnv fast("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    Outcome run =
        generate(api, tmp, "runway-gen4-turbo", 640, 360, "Go. [mock-fault:download-truncate]");
    expect_failed(run, ErrorCode::Network, "");
}

TEST(Runway, RealBinaryGeneratesAValidRun) {
    MockApi api;
    TempDir tmp;
    vmeval::testkit::make_question(tmp / "q", "maze", "maze_0000", true, 360, 640);
    auto r = vmeval::testkit::run_vmeval(
        {"generate", "--questions-dir", (tmp / "q").string(), "--output-dir",
         (tmp / "out").string(), "-m", "runway-gen4-turbo", "--seed", "3"},
        api.child_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::path task = tmp / "out" / "runway-gen4-turbo" / "maze_task" / "maze_0000";
    int runs = 0;
    for (const auto& e : fs::directory_iterator(task)) {
        std::ifstream in(e.path() / "metadata.json");
        json meta = json::parse(in);
        EXPECT_EQ(meta["status"], "success");
        EXPECT_EQ(meta["parameters"]["ratio"], "720:1280");
        EXPECT_EQ(meta["parameters"]["seed"], 3);
        EXPECT_GT(vmeval::video::probe_video(e.path() / "video" / "generated_video.mp4").frames, 0);
        ++runs;
    }
    EXPECT_EQ(runs, 1);
}
