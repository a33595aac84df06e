// A batch of API questions against the in-process mock with a fixed simulated generation time, run
// through the real binary at several --jobs values: wall time against the ideal
// (questions x latency / jobs), the vmeval process's CPU time and peak memory.
// Usage: api_bench VMEVAL_BINARY [questions=200] [generation_s=2] [jobs=1,8,32] [model=veo-3.0-generate]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "mock/mock_server.hpp"

extern char** environ;
namespace fs = std::filesystem;

namespace {

struct Outcome {
    int exit_code;
    double wall_s, cpu_s;
    long max_rss_kb;
};

Outcome run(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
    env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid;
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data()) != 0) {
        std::perror("posix_spawn");
        std::exit(2);
    }
    // ru_maxrss would include this (mock-serving, video-encoding) parent's memory, recorded when
    // the child replaced its image with exec; the child's own high-water mark is read instead.
    long hwm_kb = 0;
    int status = 0;
    struct rusage ru {};
    for (;;) {
        std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
        if (f != nullptr) {
            char line[256];
            while (std::fgets(line, sizeof line, f) != nullptr) {
                long kb = 0;
                if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) hwm_kb = std::max(hwm_kb, kb);
            }
            std::fclose(f);
        }
        if (wait4(pid, &status, WNOHANG, &ru) == pid) break;
        usleep(20000);
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, wall, cpu, hwm_kb};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s VMEVAL_BINARY [questions] [generation_s] [jobs,...] [model]\n", argv[0]);
        return 2;
    }
    std::string binary = argv[1];
    int n = argc > 2 ? std::atoi(argv[2]) : 200;
    double gen = argc > 3 ? std::atof(argv[3]) : 2.0;
    std::string jobs_list = argc > 4 ? argv[4] : "1,8,32";
    std::string model = argc > 5 ? argv[5] : "veo-3.0-generate";

    vmeval::mock::MockOptions o;
    o.port = 0;
    o.generation_s = gen;
    o.queue_s = 0;
    vmeval::mock::MockServer mock(o);
    mock.start();

    fs::path base = fs::temp_directory_path() / ("vmeval-api-bench-" + std::to_string(::getpid()));
    // A real question's first frame (a bundled example), so that image preparation costs what it
    // costs on real data.
    const fs::path image = fs::path(VMEVAL_SOURCE_DIR) / "examples/questions/maze_task/maze_0000/first_frame.png";
    for (int i = 0; i < n; ++i) {
        fs::path dir = base / "q" / "bench_task" / ("bench_" + std::to_string(10000 + i));
        fs::create_directories(dir);
        fs::copy_file(image, dir / "first_frame.png");
        std::FILE* f = std::fopen((dir / "prompt.txt").c_str(), "w");
        std::fputs("Move the square to the right.\n", f);
        std::fclose(f);
    }
    std::vector<std::string> env = {"VMEVAL_MOCK_API=" + mock.url(), "VMEVAL_POLL_INTERVAL_S=0.1",
                                    "GEMINI_API_KEY=bench", "OPENAI_API_KEY=bench", "RUNWAYML_API_SECRET=bench",
                                    "KLING_ACCESS_KEY=bench", "KLING_SECRET_KEY=bench"};
    std::printf("%d questions, %.1f s simulated generation, model %s, poll interval 0.1 s\n", n, gen, model.c_str());
    std::printf("%6s %10s %10s %8s %12s %12s %6s\n", "jobs", "wall_s", "ideal_s", "ratio", "cpu_s", "peak_MB", "exit");
    std::stringstream ss(jobs_list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        int jobs = std::atoi(item.c_str());
        fs::path out = base / ("out-" + item);
        Outcome r = run({binary, "-q", "generate", "--questions-dir", (base / "q").string(), "--output-dir",
                         out.string(), "-m", model, "--jobs", item},
                        env);
        double ideal = n * gen / jobs;
        std::printf("%6d %10.2f %10.2f %8.3f %12.2f %12.1f %6d\n", jobs, r.wall_s, ideal, r.wall_s / ideal, r.cpu_s,
                    r.max_rss_kb / 1024.0, r.exit_code);
        std::fflush(stdout);
    }
    mock.stop();
    fs::remove_all(base);
    return 0;
}
