// Every commercial model through the real binary against `vmeval mock-api`'s protocols: successes,
// every injected fault ending in success or a specific recorded failure, and no key anywhere.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <stb_image.h>

#include "api/api_support.hpp"
#include "models/api/api_model.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/video/probe.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vmeval::testkit::MockApi;
using vmeval::testkit::TempDir;

json latest_summary(const fs::path& out) {
    fs::path newest;
    for (const auto& e : fs::directory_iterator(out / "_batches")) {
        if (e.path().extension() == ".json" && (newest.empty() || e.path() > newest)) newest = e.path();
    }
    std::ifstream in(newest);
    return json::parse(in);
}

/// What `-m all-api` runs: every API model but runway-gen4-aleph, which no request can serve.
std::vector<std::string> api_models() {
    std::vector<std::string> names;
    for (const auto* m : vmeval::registry::resolve({"all-api"})) names.emplace_back(m->name);
    EXPECT_EQ(names.size(), 14u);
    return names;
}

fs::path question(const fs::path& root, const std::string& id, const std::string& prompt, int w = 640,
                  int h = 360) {
    fs::path dir = vmeval::testkit::make_question(root, "fault", id, true, w, h);
    vmeval::testkit::write_text(dir / "prompt.txt", prompt);
    return dir;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST(AllProviders, EveryApiModelSucceedsThroughTheBinary) {
    MockApi api;
    TempDir tmp;
    vmeval::testkit::make_question(tmp / "q", "maze", "maze_0000", true, 640, 360);
    vmeval::testkit::make_question(tmp / "q", "maze", "maze_0001", false, 360, 640);
    auto r = vmeval::testkit::run_vmeval({"generate", "--questions-dir", (tmp / "q").string(),
                                          "--output-dir", (tmp / "out").string(), "-m", "all-api",
                                          "--jobs", "16"},
                                         api.child_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json s = latest_summary(tmp / "out");
    EXPECT_EQ(s["totals"]["success"].get<int>(), static_cast<int>(api_models().size() * 2)) << s.dump(2);
    for (const auto& j : s["jobs"]) {
        ASSERT_EQ(j["status"], "success") << j.dump();
        fs::path run = tmp / "out" / j["model"].get<std::string>() / "maze_task" /
                       j["task_id"].get<std::string>() / j["run_id"].get<std::string>();
        auto probe = vmeval::video::probe_video(run / "video" / "generated_video.mp4");
        EXPECT_GT(probe.frames, 0);
        json meta = json::parse(slurp(run / "metadata.json"));
        EXPECT_FALSE(meta["provider"]["job_id"].get<std::string>().empty()) << run;
        EXPECT_GE(meta["provider"]["polls"].get<int>(), 1) << run;
        EXPECT_FALSE(meta["parameters"].empty()) << run;
    }
}

TEST(AllProviders, EveryFaultEndsInSuccessOrASpecificFailure) {
    MockApi api;
    TempDir tmp;
    // prompt fault token -> expected (status, error code) for every API model.
    const std::map<std::string, std::pair<std::string, std::string>> expected = {
        {"create-429@1", {"success", ""}},
        {"create-429-no-retry-after@1", {"success", ""}},
        {"create-500@1", {"success", ""}},
        {"create-503@50", {"failed", "http"}},
        {"create-malformed@50", {"failed", "http"}},
        {"create-drop@50", {"failed", "network"}},
        {"poll-500@1", {"success", ""}},
        {"poll-malformed@1", {"success", ""}},
        {"moderation", {"failed", "content_filtered"}},
        {"job-failed", {"failed", "generation"}},
        {"stuck", {"failed", "timeout"}},
        {"download-truncate@1", {"success", ""}},
        {"download-truncate", {"failed", "network"}},
        {"download-500@50", {"failed", "http"}},
    };
    int i = 0;
    std::map<std::string, std::string> fault_of_task;
    for (const auto& [fault, want] : expected) {
        std::string id = "fault_" + std::to_string(i++);
        question(tmp / "q", id, "Move the square right. [mock-fault:" + fault + "]");
        fault_of_task[id] = fault;
    }
    auto env = api.child_env();
    env.push_back("VMEVAL_HTTP_RETRY_BASE_S=0.01");
    env.push_back("VMEVAL_HTTP_MAX_ATTEMPTS=3");
    env.push_back("VMEVAL_JOB_TIMEOUT_S=1.5");
    auto r = vmeval::testkit::run_vmeval({"generate", "--questions-dir", (tmp / "q").string(),
                                          "--output-dir", (tmp / "out").string(), "-m", "all-api",
                                          "--jobs", "32"},
                                         env);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    json s = latest_summary(tmp / "out");
    ASSERT_EQ(s["jobs"].size(), api_models().size() * expected.size());
    for (const auto& j : s["jobs"]) {
        const std::string fault = fault_of_task.at(j["task_id"].get<std::string>());
        const auto& want = expected.at(fault);
        EXPECT_EQ(j["status"], want.first) << fault << ": " << j.dump();
        if (!want.second.empty()) {
            ASSERT_TRUE(j.contains("error")) << fault << ": " << j.dump();
            EXPECT_EQ(j["error"]["code"], want.second) << fault << ": " << j.dump();
        }
    }
}

TEST(AllProviders, NoKeyReachesOutputLogsOrMessages) {
    // Once with accepted keys and once with every key rejected (the error paths quote responses).
    for (bool reject : {false, true}) {
        vmeval::mock::MockOptions o = MockApi::fast_options();
        if (reject) o.required_key = "only-this-key-is-accepted";
        MockApi api(o);
        TempDir tmp;
        vmeval::testkit::make_question(tmp / "q", "maze", "maze_0000", true, 640, 360);
        auto r = vmeval::testkit::run_vmeval({"-v", "generate", "--questions-dir", (tmp / "q").string(),
                                              "--output-dir", (tmp / "out").string(), "-m", "all-api",
                                              "--jobs", "8"},
                                             api.child_env());
        EXPECT_EQ(r.exit_code, reject ? 1 : 0) << r.err;
        const std::vector<std::string> keys = {MockApi::kLumaKey,   MockApi::kGeminiKey,  MockApi::kKlingAccess,
                                               MockApi::kKlingSecret, MockApi::kOpenAIKey, MockApi::kRunwayKey,
                                               MockApi::kAwsSecret};
        for (const auto& k : keys) {
            EXPECT_EQ(r.out.find(k), std::string::npos) << "stdout holds " << k;
            EXPECT_EQ(r.err.find(k), std::string::npos) << "stderr holds " << k;
            for (const auto& e : fs::recursive_directory_iterator(tmp / "out")) {
                if (!e.is_regular_file()) continue;
                EXPECT_EQ(slurp(e.path()).find(k), std::string::npos) << e.path() << " holds " << k;
            }
        }
        if (reject) {
            json s = latest_summary(tmp / "out");
            for (const auto& j : s["jobs"]) {
                EXPECT_EQ(j["status"], "failed") << j.dump();
                EXPECT_EQ(j["error"]["code"], "config") << j.dump();
            }
        }
    }
}

TEST(MockApiCommand, ServesAGenerateRunAndStopsOnSigterm) {
    // What a user's CI does: `vmeval mock-api &`, point generate at it, stop the server.
    int out_pipe[2];
    ASSERT_EQ(pipe(out_pipe), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        close(out_pipe[0]);
        std::string bin = vmeval::testkit::vmeval_binary().string();
        execl(bin.c_str(), bin.c_str(), "mock-api", "--port", "0", "--generation-s", "0.2", nullptr);
        _exit(127);
    }
    close(out_pipe[1]);
    std::string first;
    char c;
    while (read(out_pipe[0], &c, 1) == 1 && c != '\n') first += c;
    const std::string prefix = "vmeval mock-api listening on ";
    ASSERT_EQ(first.rfind(prefix, 0), 0u) << first;
    std::string url = first.substr(prefix.size());

    TempDir tmp;
    vmeval::testkit::make_question(tmp / "q", "maze", "maze_0000", true, 640, 360);
    std::vector<std::string> env = {"VMEVAL_MOCK_API=" + url, "VMEVAL_POLL_INTERVAL_S=0.05",
                                    "GEMINI_API_KEY=ci-smoke", "OPENAI_API_KEY=ci-smoke"};
    auto r = vmeval::testkit::run_vmeval({"generate", "--questions-dir", (tmp / "q").string(), "--output-dir",
                                          (tmp / "out").string(), "-m", "veo-3.0-generate,openai-sora-2"},
                                         env);
    EXPECT_EQ(r.exit_code, 0) << r.err;

    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    close(out_pipe[0]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(EncodePng, DecodesBackToTheSamePixels) {
    vmeval::video::Image img(37, 21);  // odd sizes: every row filter edge is exercised
    for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>((i * 37) ^ (i >> 3));
    std::string png = vmeval::video::encode_png(img);
    int w = 0, h = 0, n = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                              static_cast<int>(png.size()), &w, &h, &n, 3);
    ASSERT_NE(px, nullptr) << stbi_failure_reason();
    EXPECT_EQ(w, 37);
    EXPECT_EQ(h, 21);
    EXPECT_TRUE(std::equal(img.rgb.begin(), img.rgb.end(), px));
    stbi_image_free(px);
}

TEST(AllProviders, CtrlCCancelsRemoteJobsAndRecordsThem) {
    MockApi api;  // sets the environment that the child inherits
    TempDir tmp;
    question(tmp / "q", "stuck_0", "Never finishes. [mock-fault:stuck]");
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        std::string bin = vmeval::testkit::vmeval_binary().string();
        std::string q = (tmp / "q").string(), out = (tmp / "out").string();
        execl(bin.c_str(), bin.c_str(), "generate", "--questions-dir", q.c_str(), "--output-dir", out.c_str(),
              "-m", "runway-gen4-turbo,luma-ray-2", "--jobs", "2", nullptr);
        _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);

    json s = latest_summary(tmp / "out");
    EXPECT_TRUE(s["interrupted"].get<bool>());
    ASSERT_EQ(s["jobs"].size(), 2u);
    for (const auto& j : s["jobs"]) {
        EXPECT_EQ(j["status"], "not_run") << j.dump();
        const std::string msg = j["error"]["message"].get<std::string>();
        EXPECT_EQ(j["error"]["code"], "cancelled") << j.dump();
        // "interrupted; <model> job <id> was cancelled where the API allows it"
        auto at = msg.find(" job ");
        ASSERT_NE(at, std::string::npos) << msg;
        std::string id = msg.substr(at + 5, msg.find(' ', at + 5) - at - 5);
        auto job = api.context().find(id);
        ASSERT_TRUE(job) << id;
        EXPECT_TRUE(job->cancelled) << j["model"] << " job " << id << " was not cancelled remotely";
    }
    // Nothing half-written stays behind.
    for (const auto& e : fs::recursive_directory_iterator(tmp / "out")) {
        EXPECT_EQ(e.path().filename().string().rfind(".partial-", 0), std::string::npos) << e.path();
    }
}

TEST(AllProviders, SlowAnswersTimeOutAndAreRetried) {
    MockApi api;
    TempDir tmp;
    question(tmp / "q", "slow_0", "Move right. [mock-fault:poll-slow@1]");
    auto env = api.child_env();
    env.push_back("VMEVAL_HTTP_TIMEOUT_S=1");
    env.push_back("VMEVAL_HTTP_RETRY_BASE_S=0.01");
    auto r = vmeval::testkit::run_vmeval({"generate", "--questions-dir", (tmp / "q").string(), "--output-dir",
                                          (tmp / "out").string(), "-m", "veo-3.0-generate,kling-v2.1"},
                                         env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json s = latest_summary(tmp / "out");
    for (const auto& j : s["jobs"]) EXPECT_EQ(j["status"], "success") << j.dump();
}
