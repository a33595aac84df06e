#include <cstdio>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "vmeval/core/version.hpp"
#include "vmeval/registry/doctor.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::cli {

void setup_doctor_command(CLI::App& app, Options& o) {
    auto* cmd = app.add_subcommand(
        "doctor", "Check what each model needs on this machine (keys, client setup, weights, GPU) and how to fix it");
    cmd->add_option("-m,--model", o.doctor.models,
                    "Models to check: names, comma lists, families, globs (default: every model)");
    cmd->add_flag("--json", o.doctor.json, "Print the report as JSON");
}

int run_doctor(const Options& o) {
    std::vector<const registry::ModelInfo*> models;
    if (o.doctor.models.empty()) {
        for (const auto& m : registry::all_models()) models.push_back(&m);
    } else {
        models = registry::resolve(o.doctor.models);
    }
    std::string gpu_problem;
    auto gpus = doctor::detect_gpus(&gpu_problem);

    // Loading LibTorch takes a second or more: only when a local model is being checked.
    std::optional<doctor::LocalRuntime> runtime;
    for (const auto* m : models)
        if (m->kind == registry::Kind::Local && !runtime) runtime = doctor::probe_local_runtime();

    std::vector<doctor::ModelReport> reports;
    size_t ready = 0;
    for (const auto* m : models) {
        reports.push_back(doctor::check_model(*m, gpus, gpu_problem));
        ready += reports.back().ready ? 1 : 0;
    }

    if (o.doctor.json) {
        nlohmann::json j = {{"vmeval", version()}, {"gpus", nlohmann::json::array()}, {"models", nlohmann::json::array()}};
        for (const auto& g : gpus) {
            j["gpus"].push_back({{"index", g.index}, {"name", g.name}, {"total_gib", g.total_gib}, {"free_gib", g.free_gib}});
        }
        if (gpus.empty()) j["gpu_problem"] = gpu_problem;
        if (runtime) {
            j["local_runtime"] = {{"module", runtime->module}, {"loaded", runtime->loaded},
                                  {"description", runtime->description}, {"problem", runtime->problem}};
        }
        for (const auto& r : reports) {
            nlohmann::json checks = nlohmann::json::array();
            for (const auto& c : r.checks) {
                checks.push_back({{"what", c.what}, {"status", doctor::to_string(c.status)}, {"found", c.found}, {"fix", c.fix}});
            }
            j["models"].push_back({{"name", r.model->name}, {"kind", registry::to_string(r.model->kind)},
                                   {"ready", r.ready}, {"checks", checks}});
        }
        std::printf("%s\n", j.dump(2).c_str());
        return ready == reports.size() ? 0 : 1;
    }

    std::printf("GPUs: ");
    if (gpus.empty()) std::printf("none (%s)\n", gpu_problem.c_str());
    for (size_t i = 0; i < gpus.size(); ++i) {
        std::printf("%s%d %s %.1f GiB", i ? ", " : "", gpus[i].index, gpus[i].name.c_str(), gpus[i].total_gib);
    }
    if (!gpus.empty()) std::printf("\n");
    if (runtime) {
        if (runtime->loaded) std::printf("Local models: %s (%s)\n", runtime->description.c_str(), runtime->module.c_str());
        else std::printf("Local models: no LibTorch backend: %s\n", runtime->problem.c_str());
    }
    std::printf("\n");
    for (const auto& r : reports) {
        std::printf("%s (%s): %s\n", r.model->name, registry::to_string(r.model->kind), r.ready ? "ready" : "NOT READY");
        for (const auto& c : r.checks) {
            if (c.status == doctor::Status::Ok && r.ready) continue;  // a ready model needs no detail
            std::printf("  [%s] %s: %s\n", doctor::to_string(c.status), c.what.c_str(), c.found.c_str());
            if (!c.fix.empty()) std::printf("          fix: %s\n", c.fix.c_str());
        }
    }
    std::printf("\n%zu of %zu model(s) ready.\n", ready, reports.size());
    return ready == reports.size() ? 0 : 1;
}

}  // namespace vmeval::cli
