#include "vmeval/report/report.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/cli.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::cli {

namespace {

extern "C" void on_watch_interrupt(int) {
    if (interrupted().exchange(true)) ::_exit(130);
}

void print_pass(const report::ReportResult& r, bool first) {
    const auto& m = r.media;
    std::printf(
        "report: %d question(s), %d model(s), %d run folder(s); media: %d linked, %d copied, "
        "%d unchanged, %d removed%s\n",
        r.questions, r.models, r.runs, m.linked, m.copied, m.kept, m.removed,
        r.page_changed ? "" : "; page unchanged");
    if (first) std::printf("  open file://%s\n", report::url_path(r.index.string()).c_str());
    std::fflush(stdout);
}

}  // namespace

void setup_report_command(CLI::App& app, Options& o) {
    auto& r = o.report;
    auto* cmd = app.add_subcommand(
        "report",
        "Build a static HTML gallery of every run (opens from disk, no server or network)");
    cmd->add_option("--output-dir", r.output_dir, "The folder `vmeval generate` wrote runs to")
        ->envname("VMEVAL_OUTPUT_DIR")
        ->capture_default_str();
    cmd->add_option("--report-dir", r.report_dir,
                    "Where the gallery goes (default <output-dir>/_report); self-contained, can be "
                    "zipped or moved");
    cmd->add_flag("--watch", r.watch, "Keep regenerating as runs land, until Ctrl-C");
    cmd->add_option("--interval", r.interval_s, "Seconds between passes with --watch")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
}

int run_report(const Options& o) {
    const auto& r = o.report;
    report::ReportOptions opts;
    opts.output_dir = r.output_dir;
    opts.report_dir = r.report_dir;

    auto result =
        report::build_report(opts);  // a first failure is a usage or setup problem: exit 2
    if (!o.quiet) print_pass(result, true);
    if (!r.watch) return 0;

    struct sigaction sa {};
    sa.sa_handler = on_watch_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    if (!o.quiet)
        std::printf("watching %s every %gs (Ctrl-C to stop)\n", r.output_dir.c_str(), r.interval_s);
    std::fflush(stdout);

    const auto step = std::chrono::milliseconds(100);
    while (!interrupted()) {
        auto wake = std::chrono::steady_clock::now() + std::chrono::duration<double>(r.interval_s);
        while (!interrupted() && std::chrono::steady_clock::now() < wake)
            std::this_thread::sleep_for(step);
        if (interrupted()) break;
        try {
            result = report::build_report(opts);
        } catch (const Error& e) {
            // Runs come and go while we read them; the next pass sees a settled tree.
            spdlog::warn("report pass failed, trying again: {}", e.what());
            continue;
        }
        const auto& m = result.media;
        bool changed = result.page_changed || m.linked || m.copied || m.removed;
        if (changed && !o.quiet) print_pass(result, false);
    }
    if (!o.quiet) std::printf("stopped watching; the report is at %s\n", result.index.c_str());
    return 0;
}

}  // namespace vmeval::cli
