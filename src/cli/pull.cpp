#include "vmeval/weights/pull.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/cli.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::cli {

void setup_pull_command(CLI::App& app, Options& o) {
    auto* cmd = app.add_subcommand(
        "pull", "Download the weights local models need from the Hugging Face Hub into its cache");
    cmd->add_option("models", o.pull.models,
                    "Local models (names, families, globs such as 'wan-*', all-local) or "
                    "repository ids org/name")
        ->required();
    cmd->add_option(
        "--dir", o.pull.dir,
        "Plain folder (<dir>/<org>--<name>/...) instead of the Hugging Face cache ($HF_HOME/hub)");
    cmd->add_option("--revision", o.pull.revision,
                    "Branch, tag or commit of every repository (default: main)");
    cmd->add_option("-j,--jobs", o.pull.jobs, "Files downloaded at once")
        ->capture_default_str()
        ->check(CLI::Range(1, 32));
    cmd->add_flag("--dry-run", o.pull.dry_run,
                  "List the files and the space needed; download nothing");
    cmd->footer(
        "Environment: HF_HOME / HF_HUB_CACHE (where), HF_ENDPOINT (which Hub), HF_TOKEN (gated "
        "models),\n"
        "HF_HUB_OFFLINE=1 (check the cache only). An interrupted pull resumes where it stopped.");
}

int run_pull(const Options& o) {
    weights::PullOptions p;
    for (const auto& arg : o.pull.models) {
        bool repo_id = arg.find('/') != std::string::npos && registry::find_model(arg) == nullptr;
        if (repo_id || registry::find_model(arg) != nullptr) {
            p.models.push_back(arg);
            continue;
        }
        // A family or glob brings only its local models; API models have no weights.
        for (const auto* m : registry::resolve({arg})) {
            if (m->kind == registry::Kind::Local) p.models.push_back(m->name);
        }
    }
    p.dir = o.pull.dir;
    p.revision = o.pull.revision;
    p.jobs = o.pull.jobs;
    p.dry_run = o.pull.dry_run;
    weights::PullResult r = weights::pull(p);
    if (!p.dry_run) {
        std::printf("downloaded %d file(s), %s; %d already present\n", r.files_downloaded,
                    weights::human_bytes(r.bytes_downloaded).c_str(), r.files_present);
    }
    for (const auto& why : r.not_pulled) std::printf("not pulled: %s\n", why.c_str());
    return r.not_pulled.empty() ? 0 : 1;
}

}  // namespace vmeval::cli
