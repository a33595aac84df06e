// `vmeval generate --gpus 0,1,2,3`: one worker process per GPU. Each worker is this same program
// with `--gpu N`, so it sees one device, loads its model once and takes questions through the
// per-question claims that any set of workers on one output folder shares.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"

extern char** environ;

namespace vmeval::cli {

namespace {

volatile sig_atomic_t g_signals = 0;

extern "C" void count_signal(int) { g_signals = g_signals + 1; }

std::vector<int> parse_gpus(const std::string& text) {
    std::vector<int> gpus;
    std::set<int> seen;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (item.empty() || item.size() > 4 || item.find_first_not_of("0123456789") != std::string::npos) {
            throw Error(ErrorCode::Usage, "--gpus " + text + ": expected GPU numbers separated by commas, e.g. --gpus 0,1,2,3");
        }
        int g = std::stoi(item);
        if (!seen.insert(g).second) throw Error(ErrorCode::Usage, "--gpus " + text + ": GPU " + item + " is listed twice");
        gpus.push_back(g);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return gpus;
}

/// The command line without `--gpus X` / `--gpus=X`, plus `--gpu N`.
std::vector<std::string> worker_argv(const std::vector<std::string>& argv, int gpu) {
    std::vector<std::string> out;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "--gpus") {
            ++i;
            continue;
        }
        if (argv[i].rfind("--gpus=", 0) == 0) continue;
        out.push_back(argv[i]);
    }
    out.push_back("--gpu");
    out.push_back(std::to_string(gpu));
    return out;
}

std::string self_path() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw Error(ErrorCode::Internal, "cannot find this program's path (/proc/self/exe)");
    return std::string(buf, static_cast<size_t>(n));
}

pid_t spawn_worker(const std::string& exe, std::vector<std::string> args, int gpu) {
    args[0] = exe;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
        if (std::string(*e).rfind("VMEVAL_WORKER=", 0) != 0) env_s.emplace_back(*e);
    }
    env_s.push_back("VMEVAL_WORKER=gpu" + std::to_string(gpu));
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    // Workers get their own process group so that a Ctrl-C reaches them once, through us, and
    // they stop the same way a single `vmeval generate` does.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw Error(ErrorCode::Internal, "cannot start a worker for GPU " + std::to_string(gpu));
    return pid;
}

}  // namespace

int run_gpu_workers(const Options& o) {
    const auto& g = o.generate;
    std::vector<int> gpus = parse_gpus(g.gpus);
    auto models = registry::resolve(g.models.empty() ? std::vector<std::string>{"baseline-still"} : g.models);
    bool any_local = false;
    for (const auto* m : models) any_local = any_local || m->kind != registry::Kind::Api;
    Options single = o;
    single.generate.gpus.clear();
    if (!any_local) {
        spdlog::warn("--gpus: API models use no local GPU; running one worker (use --jobs N for more "
                     "requests at once)");
        return run_generate(single);
    }
    if (gpus.size() == 1) {
        single.generate.gpu = gpus[0];
        return run_generate(single);
    }

    struct sigaction sa {};
    sa.sa_handler = count_signal;
    sigemptyset(&sa.sa_mask);  // no SA_RESTART: waitpid must return to forward the signal
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const std::string exe = self_path();
    std::vector<pid_t> pids;
    for (int gpu : gpus) {
        pids.push_back(spawn_worker(exe, worker_argv(o.argv, gpu), gpu));
        spdlog::info("worker gpu{} started (pid {})", gpu, pids.back());
    }
    std::vector<int> codes(pids.size(), -1);
    size_t running = pids.size();
    int forwarded = 0;
    while (running > 0) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno != EINTR) break;
            for (; forwarded < g_signals; ++forwarded) {
                for (size_t k = 0; k < pids.size(); ++k) {
                    if (codes[k] < 0) ::kill(pids[k], SIGINT);
                }
            }
            continue;
        }
        for (size_t k = 0; k < pids.size(); ++k) {
            if (pids[k] != pid) continue;
            codes[k] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            --running;
            if (codes[k] != 0) spdlog::warn("worker gpu{} exited with code {}", gpus[k], codes[k]);
        }
    }
    int worst = 0;
    for (size_t k = 0; k < codes.size(); ++k) {
        int c = codes[k];
        if (c == 130 || g_signals > 0) worst = 130;
        else if (worst != 130 && c == 2) worst = 2;
        else if (worst == 0 && c != 0) worst = 1;
    }
    if (!o.quiet) {
        std::printf("GPU workers:");
        for (size_t k = 0; k < codes.size(); ++k) std::printf(" gpu%d exit %d%s", gpus[k], codes[k], k + 1 < codes.size() ? "," : "\n");
        std::printf("Each worker wrote its own summary under %s/_batches/.\n", g.output_dir.c_str());
    }
    return worst;
}

}  // namespace vmeval::cli
