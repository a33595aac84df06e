#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <utility>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/report/report.hpp"
#include "vmeval/runs/batch_runner.hpp"

namespace vmeval::cli {

std::atomic<bool>& interrupted() {
    static std::atomic<bool> flag{false};
    return flag;
}

namespace {

constexpr const char* kDefaultModel = "baseline-still";

extern "C" void on_interrupt(int) {
    // Only async-signal-safe calls here: an atomic store and write(2).
    if (interrupted().exchange(true)) {
        static const char again[] = "\nvmeval: interrupted again, quitting now\n";
        (void)!::write(STDERR_FILENO, again, sizeof again - 1);
        ::_exit(130);
    }
    static const char msg[] =
        "\nvmeval: stopping; questions in progress are dropped, finished runs are kept "
        "(Ctrl-C again to quit at once)\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

void setup_generate_command(CLI::App& app, Options& o) {
    auto& g = o.generate;
    auto* cmd = app.add_subcommand("generate", "Generate videos for every question with each model");
    cmd->add_option("--questions-dir", g.questions_dir,
                    "Folder holding <domain>_task/<task_id>/ question folders")
        ->envname("VMEVAL_QUESTIONS_DIR")
        ->capture_default_str();
    cmd->add_option("--output-dir", g.output_dir,
                    "Where runs go: <output-dir>/<model>/<domain>_task/<task_id>/<run_id>/")
        ->envname("VMEVAL_OUTPUT_DIR")
        ->capture_default_str();
    cmd->add_option("-m,--model,--only-model", g.models,
                    "Models to run: names, comma lists, family names, globs ('veo-*'), all-baselines, "
                    "all-api, all-local (default: baseline-still). See `vmeval models`.");
    cmd->add_option("--task-id", g.task_ids, "Only these task folders (any domain)");
    cmd->add_option("--domain", g.domains, "Only these domains ('maze' or 'maze_task')");
    cmd->add_option("--param", g.params,
                    "Model parameter key=value, repeatable (e.g. --param frames=24 --param fps=12)");
    cmd->add_option("-j,--jobs", g.jobs, "Questions generated at once (local GPU models still run one at a time)")
        ->envname("VMEVAL_JOBS")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    cmd->add_option("--seed", g.seed, "Random seed passed to models that take one")->capture_default_str();
    cmd->add_flag("--dry-run", g.dry_run, "Show what would be generated and skipped; write nothing");
    cmd->add_flag("--force", g.force,
                  "Generate again even where the latest run succeeded (earlier runs are kept)");
    cmd->add_flag("--override", g.override_flag,
                  "The original's flag: here the same as --force (nothing is deleted)");
    cmd->add_option("--gpu", g.gpu, "Use this GPU only (sets CUDA_VISIBLE_DEVICES, as the original did)")
        ->check(CLI::Range(0, 1024));
    cmd->add_option("--gpus", g.gpus,
                    "One worker process per GPU (e.g. --gpus 0,1,2,3), sharing the questions; each "
                    "loads its model once")
        ->excludes("--gpu");
    cmd->add_option("--shard", g.shard,
                    "Take only part I of N of the questions (0 <= I < N), e.g. --shard 2/8 for a Slurm "
                    "array task; without it, workers on one output folder share questions as they go")
        ->envname("VMEVAL_SHARD");
    cmd->add_flag("--no-contact-sheet", g.no_contact_sheet,
                  "Do not write contact_sheet.png (input, sampled frames, goal) into each run");
    cmd->add_option("--contact-sheet-frames", g.contact_sheet_frames,
                    "Generated frames shown on each contact sheet, the last always included")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    cmd->add_option("--device", g.device,
                    "Where local models run: auto (first CUDA device, else the CPU), cpu, cuda or cuda:N")
        ->envname("VMEVAL_DEVICE")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}) | CLI::Validator(
                    [](std::string& v) {
                        bool ok = v.rfind("cuda:", 0) == 0 && v.size() > 5 && v.size() < 9 &&
                                  v.find_first_not_of("0123456789", 5) == std::string::npos;
                        return ok ? std::string() : "expected auto, cpu, cuda or cuda:N";
                    },
                    "cuda:N"))
        ->capture_default_str();
    cmd->add_option("--precision", g.precision,
                    "Compute precision of local models: auto (bf16 on a GPU, fp32 on the CPU), bf16, fp16, fp32")
        ->envname("VMEVAL_PRECISION")
        ->check(CLI::IsMember({"auto", "bf16", "fp16", "fp32"}))
        ->capture_default_str();
    cmd->add_flag("--list-models", g.list_models, "List the models and exit (same as `vmeval models`)");
    cmd->add_flag("--report", g.report,
                  "Update the HTML gallery <output-dir>/_report after the batch (see `vmeval report`)");
}

namespace {

/// "I/N" -> {I, N}; Error(Usage) for anything else.
std::pair<int, int> parse_shard(const std::string& text) {
    auto bad = [&] {
        return Error(ErrorCode::Usage, "--shard " + text + ": expected I/N with 0 <= I < N, e.g. --shard 0/4 "
                                       "(in a Slurm array: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with "
                                       "the array starting at 0)");
    };
    auto slash = text.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) throw bad();
    auto number = [&](const std::string& t) {
        if (t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) throw bad();
        return std::stoi(t);
    };
    int i = number(text.substr(0, slash));
    int n = number(text.substr(slash + 1));
    if (n < 1 || i >= n) throw bad();
    return {i, n};
}

}  // namespace

int run_generate(const Options& o) {
    const auto& g = o.generate;
    if (!g.gpus.empty() && !g.dry_run) return run_gpu_workers(o);
    if (g.gpu >= 0) {
        ::setenv("CUDA_VISIBLE_DEVICES", std::to_string(g.gpu).c_str(), 1);
        spdlog::info("using GPU {} (CUDA_VISIBLE_DEVICES={})", g.gpu, g.gpu);
    }
    if (g.override_flag) {
        spdlog::warn("--override regenerates every question like --force; unlike the original it "
                     "deletes nothing (earlier runs stay beside the new ones)");
    }

    BatchOptions b;
    b.questions_dir = g.questions_dir;
    b.output_dir = g.output_dir;
    b.models = registry::resolve(g.models.empty() ? std::vector<std::string>{kDefaultModel} : g.models);
    b.discovery.task_ids = g.task_ids;
    b.discovery.domains = g.domains;
    b.dry_run = g.dry_run;
    b.force = g.force || g.override_flag;
    b.jobs = g.jobs;
    if (!g.shard.empty()) std::tie(b.shard_index, b.shard_count) = parse_shard(g.shard);
    b.seed = g.seed;
    b.params = Params::parse(g.params);
    b.device = g.device;
    b.precision = g.precision;
    if (g.device != "auto" || g.precision != "auto") {
        bool any_local = false;
        for (const auto* m : b.models) any_local = any_local || m->kind == registry::Kind::Local;
        if (!any_local) spdlog::warn("--device and --precision apply to local models only; none is selected");
    }
    b.quiet = o.quiet;
    b.verbose = o.verbose > 0;
    b.command_line = o.argv;
    b.cancel = &interrupted();
    b.contact_sheet = !g.no_contact_sheet;
    b.contact_sheet_frames = g.contact_sheet_frames;

    install_signal_handlers();
    BatchReport report = run_batch(b);
    if (!g.dry_run && !o.quiet) {
        print_batch_summary(report.summary, stdout);
        std::printf("  summary: %s\n  log:     %s\n", report.summary_path.c_str(), report.log_path.c_str());
    }
    if (g.report && !g.dry_run) {
        // The gallery is a convenience: failing to make it never changes the batch's exit code.
        try {
            auto gallery = vmeval::report::build_report({g.output_dir, {}});
            if (!o.quiet) std::printf("  report:  %s\n", gallery.index.c_str());
        } catch (const Error& e) {
            spdlog::warn("no report: {}", e.what());
        }
    }
    std::fflush(stdout);
    return report.exit_code;
}

}  // namespace vmeval::cli
