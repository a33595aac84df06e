// vmeval killed at random moments: a run that was not finished must never count as done, and
// running again must complete every question exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/runs/resume.hpp"
#include "vmeval/video/probe.hpp"


namespace {

using json = nlohmann::json;
using vmeval::testkit::make_question;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;
using namespace std::chrono_literals;

const std::string kModel = "baseline-still";
constexpr int kFrames = 60;

struct Task {
    std::string domain;
    std::string id;
};

/// ~40 questions with 320x240 images, so that every job takes a noticeable time.
std::vector<Task> make_tree(const fs::path& root, int count) {
    std::vector<Task> tasks;
    const char* domains[] = {"maze", "rotation", "sorting", "counting"};
    for (int i = 0; i < count; ++i) {
        std::string domain = domains[i % 4];
        char id[48];
        std::snprintf(id, sizeof id, "%s_%04d", domain.c_str(), i);
        make_question(root, domain, id, true, 320, 240);
        tasks.push_back({domain, id});
    }
    return tasks;
}

/// Starts vmeval without waiting; its output goes to `log`.
pid_t spawn_vmeval(const std::vector<std::string>& args, const fs::path& log) {
    std::vector<std::string> argv{vmeval::testkit::vmeval_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return vmeval::testkit::spawn_logged(argv, log);
}

/// Waits up to `timeout` for the child; returns its exit code (128 + signal when killed), or -1
/// after killing it when it did not end in time.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (true) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(10ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Every entry of every task folder of the model: completed runs and partials, by task.
struct TaskState {
    std::vector<std::string> runs;
    std::vector<fs::path> partials;
};
TaskState state_of(const fs::path& out, const Task& t) {
    TaskState s;
    fs::path tdir = runs::task_dir(out, kModel, t.domain, t.id);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tdir, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind(runs::kPartialPrefix, 0) == 0 || name.rfind(".claim-", 0) == 0 ||
            name == ".working") {
            s.partials.push_back(e.path());
        } else {
            s.runs.push_back(name);
        }
    }
    return s;
}

/// Every published run of `t` must be a complete success whose video is what metadata recorded.
void expect_published_runs_complete(const fs::path& out, const Task& t, const std::string& when) {
    fs::path tdir = runs::task_dir(out, kModel, t.domain, t.id);
    TaskState s = state_of(out, t);
    EXPECT_LE(s.runs.size(), 1u) << when << ": " << t.id << " has more than one run";
    for (const auto& name : s.runs) {
        ASSERT_TRUE(runs::parse_run_id(name, kModel, t.id).has_value())
            << when << ": unexpected entry " << (tdir / name);
        auto m = runs::read_metadata(tdir / name);
        ASSERT_TRUE(m.has_value())
            << when << ": published run without readable metadata: " << (tdir / name);
        EXPECT_EQ((*m)["status"], "success") << when << ": " << (tdir / name);
        auto probe = vmeval::video::probe_video(tdir / name / "video" / "generated_video.mp4");
        EXPECT_EQ(probe.frames, kFrames) << when << ": " << (tdir / name);
        EXPECT_EQ((*m)["output"]["frames"], kFrames) << when << ": " << (tdir / name);
        auto latest = runs::latest_run(tdir, kModel, t.id);
        ASSERT_TRUE(latest.has_value());
        EXPECT_TRUE(latest->success) << when << ": " << latest->why;
    }
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

size_t published_runs(const fs::path& out, const std::vector<Task>& tasks) {
    size_t n = 0;
    for (const auto& t : tasks) n += state_of(out, t).runs.size();
    return n;
}

}  // namespace

TEST(CrashE2E, KilledBatchesNeverPublishHalfRunsAndResumeCompletesEachQuestionOnce) {
    TempDir tmp;
    fs::path q = tmp / "q";
    fs::path out = tmp / "out";
    std::vector<Task> tasks = make_tree(q, 40);
    std::vector<std::string> base{"--env-file",
                                  (tmp / "none.env").string(),
                                  "generate",
                                  "--questions-dir",
                                  q.string(),
                                  "--output-dir",
                                  out.string(),
                                  "--param",
                                  "frames=" + std::to_string(kFrames)};

    const unsigned seed = std::random_device{}();
    SCOPED_TRACE("random seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> delay_ms(100, 600);

    int killed = 0;
    for (int round = 0; round < 5; ++round) {
        std::vector<std::string> args = base;
        if (round % 2 == 1) {
            args.push_back("--jobs");
            args.push_back("3");
        }
        pid_t pid = spawn_vmeval(args, tmp / "log.txt");
        int delay = delay_ms(rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        kill(pid, SIGKILL);
        int code = wait_for(pid, 10s);
        if (code == 128 + SIGKILL) ++killed;
        std::printf("round %d: SIGKILL after %d ms (exit %d), %zu of %zu questions done\n",
                    round + 1, delay, code, published_runs(out, tasks), tasks.size());
        std::string when = "after kill " + std::to_string(round + 1);
        for (const auto& t : tasks) expect_published_runs_complete(out, t, when);
    }
    EXPECT_GT(killed, 0) << "every batch finished before it could be killed; make jobs slower";
    if (published_runs(out, tasks) == tasks.size()) {
        std::printf("note: every question was done before the last kill; the resume is trivial\n");
    }

    vmeval::testkit::CommandResult done = vmeval::testkit::run_vmeval({base.begin(), base.end()});
    ASSERT_EQ(done.exit_code, 0) << done.err;

    std::set<std::string> ids;
    for (const auto& t : tasks) {
        TaskState s = state_of(out, t);
        ASSERT_EQ(s.runs.size(), 1u) << t.id << " must have exactly one run";
        ids.insert(s.runs[0]);
        expect_published_runs_complete(out, t, "after the complete run");
        // Leftovers of killed workers (claims and partials) are removed when the next batch
        // plans its jobs, including beside runs that it skips.
        for (const auto& p : s.partials) ADD_FAILURE() << "leftover of a killed worker survived: " << p;
    }
    EXPECT_EQ(ids.size(), tasks.size());

    // The complete run's summary accounts for every question.
    bool found = false;
    for (const auto& s : vmeval::testkit::batch_summaries(out)) {
        if (s["totals"]["success"].get<int>() + s["totals"]["skipped"].get<int>() == 40 &&
            s["totals"]["failed"] == 0) {
            found = true;
        }
    }
    EXPECT_TRUE(found) << "no batch summary accounts for all 40 questions";

    // And yet another run does nothing.
    auto again = vmeval::testkit::run_vmeval({base.begin(), base.end()});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(published_runs(out, tasks), tasks.size());
}

TEST(CrashE2E, SigintStopsBatchWritesInterruptedSummaryAndLeavesNoPartials) {
    TempDir tmp;
    fs::path q = tmp / "q";
    fs::path out = tmp / "out";
    std::vector<Task> tasks = make_tree(q, 40);
    std::vector<std::string> args{"--env-file",
                                  (tmp / "none.env").string(),
                                  "generate",
                                  "--questions-dir",
                                  q.string(),
                                  "--output-dir",
                                  out.string(),
                                  "--param",
                                  "frames=" + std::to_string(kFrames),
                                  "--jobs",
                                  "2"};
    pid_t pid = spawn_vmeval(args, tmp / "log.txt");
    // Interrupt mid-batch: once the first run is published (the handler is installed by then).
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (published_runs(out, tasks) == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_GT(published_runs(out, tasks), 0u) << read_text(tmp / "log.txt");
    auto sent = std::chrono::steady_clock::now();
    kill(pid, SIGINT);
    int code = wait_for(pid, 5s);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    std::string err = read_text(tmp / "log.txt");
    ASSERT_NE(code, -1) << "vmeval did not stop within 5 s of SIGINT\n" << err;
    EXPECT_EQ(code, 130) << err;
    EXPECT_LT(took, 5.0);

    auto s = vmeval::testkit::batch_summaries(out);
    ASSERT_EQ(s.size(), 1u) << "the interrupted batch must still write its summary\n" << err;
    EXPECT_EQ(s[0]["interrupted"], true);
    EXPECT_GT(s[0]["totals"]["not_run"].get<int>(), 0) << "the batch was not interrupted mid-way";
    EXPECT_EQ(s[0]["totals"]["failed"], 0);
    EXPECT_EQ(s[0]["totals"]["success"].get<size_t>(), published_runs(out, tasks));
    EXPECT_TRUE(partials_under(out).empty()) << partials_under(out).front();
    for (const auto& t : tasks) expect_published_runs_complete(out, t, "after SIGINT");
}
