// Measures the runner's own costs on a generated questions tree:
//   1. discovery of N questions (header checks, and full decoding as `validate` does),
//   2. a dry run of N questions with no earlier runs,
//   3. per-question overhead of a real batch with baseline-still on the first M questions
//      (wall time per question minus the model's own encode time),
//   4. a dry run over those M questions once they all have runs (reads metadata, probes videos).
// Usage: runner_bench [N=10000] [M=300] [--jobs J]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "vmeval/core/log.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/runs/batch_runner.hpp"
#include "vmeval/video/image.hpp"

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

double since(Steady::time_point t0) {
    return std::chrono::duration<double>(Steady::now() - t0).count();
}

void make_tree(const fs::path& root, int n) {
    vmeval::video::Image img(64, 48);
    for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>(i * 7);
    fs::path shared_png = root / "shared.png";
    fs::create_directories(root);
    vmeval::video::write_png(shared_png, img);
    for (int i = 0; i < n; ++i) {
        char domain[32], task[32];
        std::snprintf(domain, sizeof domain, "d%03d_task", i / 100);
        std::snprintf(task, sizeof task, "d%03d_%04d", i / 100, i % 100);
        fs::path dir = root / domain / task;
        fs::create_directories(dir);
        fs::copy_file(shared_png, dir / "first_frame.png");
        std::FILE* f = std::fopen((dir / "prompt.txt").c_str(), "w");
        std::fputs("Move the block to the goal.\n", f);
        std::fclose(f);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 10000;
    int m = argc > 2 ? std::atoi(argv[2]) : 300;
    int jobs = argc > 4 && std::string(argv[3]) == "--jobs" ? std::atoi(argv[4]) : 1;
    vmeval::logging::init(vmeval::logging::Verbosity::Quiet);
    fs::path base = fs::temp_directory_path() / ("vmeval-bench-" + std::to_string(::getpid()));
    fs::path big = base / "big", small = base / "small", out = base / "out";

    auto t0 = Steady::now();
    make_tree(big, n);
    make_tree(small, m);
    std::printf("made %d + %d questions in %.2fs under %s\n", n, m, since(t0), base.c_str());

    t0 = Steady::now();
    auto d = vmeval::questions::discover(big);
    double disc = since(t0);
    t0 = Steady::now();
    vmeval::questions::DiscoveryOptions deep;
    deep.decode_images = true;
    auto d2 = vmeval::questions::discover(big, deep);
    double disc_deep = since(t0);
    std::printf("discovery      %6d questions: %.3fs (%.1f us/question); with decoding %.3fs (%.1f us/question)\n",
                static_cast<int>(d.questions.size()), disc, 1e6 * disc / n, disc_deep, 1e6 * disc_deep / n);
    if (d.questions.size() != static_cast<size_t>(n) || !d2.problems.empty()) return 1;

    vmeval::BatchOptions b;
    b.questions_dir = big;
    b.output_dir = out;
    b.models = {vmeval::registry::find_model("baseline-still")};
    b.dry_run = true;
    b.quiet = true;
    b.jobs = jobs;
    t0 = Steady::now();
    vmeval::run_batch(b);
    double dry = since(t0);

    b.questions_dir = small;
    b.dry_run = false;
    t0 = Steady::now();
    auto report = vmeval::run_batch(b);
    double gen = since(t0);
    double model_s = report.summary["by_model"]["baseline-still"]["total_s"].get<double>();

    b.dry_run = true;
    t0 = Steady::now();
    vmeval::run_batch(b);
    double dry_resume = since(t0);
    std::fprintf(stderr,
                 "dry run        %6d questions, no earlier runs: %.3fs (%.1f us/question)\n"
                 "generate       %6d questions with baseline-still (16 frames 64x48), --jobs %d: %.3fs wall, "
                 "%.2f ms/question; per-run time %.2f ms/question\n"
                 "dry run        %6d questions, all done (metadata read + video probed): %.3fs (%.1f us/question)\n",
                 n, dry, 1e6 * dry / n, m, jobs, gen, 1e3 * gen / m, 1e3 * model_s / m, m, dry_resume,
                 1e6 * dry_resume / m);
    std::fprintf(stderr, "exit %d\n", report.exit_code);
    fs::remove_all(base);
    return report.exit_code;
}
