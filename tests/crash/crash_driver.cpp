// Crash driver: several `vmeval generate` workers share one output folder and a mock API; they are
// killed with SIGKILL at random moments, many times; then workers run to the end. Afterwards every
// question must have exactly one run per model, a success whose video probes as metadata.json says,
// and nothing half-written may remain.
//
//   crash_driver --vmeval build/vmeval [--trials 8] [--workers 3] [--questions 24] [--seed N]
//                [--models baseline-still,veo-3.1-generate,runway-gen4-turbo] [--keep DIR]
//
// Exit 0 when every check holds, 1 otherwise (each violation printed), 2 for bad arguments.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/probe.hpp"


namespace {

namespace fs = std::filesystem;
namespace runs = vmeval::runs;
using namespace std::chrono_literals;

struct Args {
    fs::path vmeval;
    int trials = 8;
    int workers = 3;
    int questions = 24;
    unsigned seed = std::random_device{}();
    std::string models = "baseline-still,veo-3.1-generate,runway-gen4-turbo";
    fs::path keep;
};

int spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const fs::path& log) {
    try {
        return vmeval::testkit::spawn_logged(args, log, env);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::exit(2);
    }
}

using vmeval::testkit::wait_exit;

std::string start_mock(const Args& a, const fs::path& log, int* pid) {
    *pid = spawn({a.vmeval.string(), "mock-api", "--port", "0", "--generation-s", "0.4"}, {}, log);
    for (int i = 0; i < 200; ++i) {
        std::string text = vmeval::testkit::read_text(log);
        auto at = text.find("listening on ");
        if (at != std::string::npos) {
            auto end = text.find('\n', at);
            if (end != std::string::npos) return text.substr(at + 13, end - at - 13);
        }
        std::this_thread::sleep_for(25ms);
    }
    std::fprintf(stderr, "mock-api did not start:\n%s\n", vmeval::testkit::read_text(log).c_str());
    ::kill(*pid, SIGKILL);
    std::exit(1);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t c = s.find(',', pos);
        out.push_back(s.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
        if (c == std::string::npos) break;
        pos = c + 1;
    }
    return out;
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", k.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (k == "--vmeval") a.vmeval = value();
        else if (k == "--trials") a.trials = std::atoi(value().c_str());
        else if (k == "--workers") a.workers = std::atoi(value().c_str());
        else if (k == "--questions") a.questions = std::atoi(value().c_str());
        else if (k == "--seed") a.seed = static_cast<unsigned>(std::strtoul(value().c_str(), nullptr, 10));
        else if (k == "--models") a.models = value();
        else if (k == "--keep") a.keep = value();
        else {
            std::fprintf(stderr, "unknown argument %s (see the comment at the top of crash_driver.cpp)\n", k.c_str());
            std::exit(2);
        }
    }
    if (a.vmeval.empty() || a.trials < 0 || a.workers < 1 || a.questions < 1) {
        std::fprintf(stderr, "usage: crash_driver --vmeval PATH [--trials N] [--workers N] [--questions N]\n");
        std::exit(2);
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    vmeval::testkit::TempDir tmp;
    fs::path root = a.keep.empty() ? tmp.path() : a.keep;
    fs::create_directories(root);
    fs::path q = root / "q", out = root / "out", logs = root / "logs";
    fs::create_directories(logs);
    std::vector<std::pair<std::string, std::string>> tasks;
    const char* domains[] = {"maze", "rotation", "sorting"};
    for (int i = 0; i < a.questions; ++i) {
        std::string d = domains[i % 3];
        std::string id = d + "_" + std::to_string(1000 + i);
        vmeval::testkit::make_question(q, d, id, true, 160, 120);
        tasks.push_back({d, id});
    }
    std::printf("crash_driver: seed %u, %d trials, %d workers, %d questions, models %s\n", a.seed, a.trials,
                a.workers, a.questions, a.models.c_str());

    int mock_pid = 0;
    std::string url = start_mock(a, logs / "mock.log", &mock_pid);
    std::vector<std::string> env{"VMEVAL_MOCK_API=" + url, "VMEVAL_POLL_INTERVAL_S=0.05",
                                 "GEMINI_API_KEY=crash-test", "RUNWAYML_API_SECRET=crash-test",
                                 "KLING_ACCESS_KEY=crash-test", "KLING_SECRET_KEY=crash-test",
                                 "OPENAI_API_KEY=crash-test", "VMEVAL_CLAIM_STALE_S=30"};
    std::vector<std::string> cmd{a.vmeval.string(), "--env-file", (root / "none.env").string(), "generate",
                                 "--questions-dir", q.string(), "--output-dir", out.string(),
                                 "--model", a.models, "--jobs", "2"};

    std::mt19937 rng(a.seed);
    int kills = 0, finished_on_their_own = 0;
    for (int t = 0; t < a.trials; ++t) {
        std::vector<int> pids;
        for (int w = 0; w < a.workers; ++w) {
            pids.push_back(spawn(cmd, env, logs / ("trial" + std::to_string(t) + "_w" + std::to_string(w) + ".log")));
        }
        // Kill each worker at its own random moment; some may finish first.
        std::vector<int> at;
        for (int w = 0; w < a.workers; ++w) at.push_back(std::uniform_int_distribution<int>(50, 1500)(rng));
        std::vector<bool> done(pids.size(), false);
        auto start = std::chrono::steady_clock::now();
        size_t left = pids.size();
        while (left > 0) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
            for (size_t w = 0; w < pids.size(); ++w) {
                if (done[w]) continue;
                int status = 0;
                if (::waitpid(pids[w], &status, WNOHANG) == pids[w]) {
                    done[w] = true;
                    --left;
                    ++finished_on_their_own;
                } else if (ms >= at[w]) {
                    ::kill(pids[w], SIGKILL);
                    wait_exit(pids[w]);
                    done[w] = true;
                    --left;
                    ++kills;
                }
            }
            std::this_thread::sleep_for(5ms);
        }
    }

    // Then workers run to the end, all at once.
    std::vector<int> last;
    for (int w = 0; w < a.workers; ++w) last.push_back(spawn(cmd, env, logs / ("final_w" + std::to_string(w) + ".log")));
    int failures = 0;
    for (size_t w = 0; w < last.size(); ++w) {
        int code = wait_exit(last[w]);
        if (code != 0) {
            std::printf("FAIL: final worker %zu exited with %d (log %s)\n", w, code,
                        (logs / ("final_w" + std::to_string(w) + ".log")).c_str());
            ++failures;
        }
    }
    ::kill(mock_pid, SIGTERM);
    wait_exit(mock_pid);

    int checked = 0;
    for (const auto& model : split(a.models)) {
        for (const auto& [domain, id] : tasks) {
            fs::path tdir = runs::task_dir(out, model, domain, id);
            std::vector<std::string> run_dirs, leftovers;
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(tdir, ec)) {
                std::string name = e.path().filename().string();
                (name[0] == '.' ? leftovers : run_dirs).push_back(name);
            }
            for (const auto& l : leftovers) {
                std::printf("FAIL: leftover %s\n", (tdir / l).c_str());
                ++failures;
            }
            if (run_dirs.size() != 1) {
                std::printf("FAIL: %s has %zu runs (want exactly 1)\n", tdir.c_str(), run_dirs.size());
                ++failures;
                continue;
            }
            fs::path run = tdir / run_dirs[0];
            auto meta = runs::read_metadata(run);
            if (!meta || (*meta)["status"] != "success") {
                std::printf("FAIL: %s is not a success\n", run.c_str());
                ++failures;
                continue;
            }
            try {
                auto p = vmeval::video::probe_video(run / "video" / "generated_video.mp4");
                if (p.frames != (*meta)["output"]["frames"].get<int>() ||
                    static_cast<long long>(p.bytes) != (*meta)["output"]["bytes"].get<long long>()) {
                    std::printf("FAIL: %s: video does not match metadata.json\n", run.c_str());
                    ++failures;
                }
            } catch (const std::exception& e) {
                std::printf("FAIL: %s: %s\n", run.c_str(), e.what());
                ++failures;
            }
            ++checked;
        }
    }
    std::printf("crash_driver: %d SIGKILLs, %d workers ended on their own, %d (model, question) pairs checked, "
                "%d failure(s)\n",
                kills, finished_on_their_own, checked, failures);
    return failures == 0 ? 0 : 1;
}
