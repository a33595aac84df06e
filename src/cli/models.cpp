#include <cstdio>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::cli {

namespace {

std::vector<std::string> split_words(const char* s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

std::string needs(const registry::ModelInfo& m) {
    std::string n;
    for (const auto& v : split_words(m.env_vars)) n += (n.empty() ? "" : " ") + v;
    if (m.kind == registry::Kind::Local) n += std::string(n.empty() ? "" : ", ") + "weights, GPU";
    return n.empty() ? "nothing" : n;
}

}  // namespace

void setup_models_command(CLI::App& app, Options& o) {
    auto* cmd = app.add_subcommand("models", "List every model by family, with what it needs and whether it can run here");
    cmd->add_flag("--json", o.models.json, "Print the catalog as JSON");
    cmd->add_option("select", o.models.select, "Only these models/families/globs");
}

int run_models(const Options& o) {
    std::vector<const registry::ModelInfo*> models;
    if (o.models.select.empty()) {
        for (const auto& m : registry::all_models()) models.push_back(&m);
    } else {
        models = registry::resolve(o.models.select);
    }

    if (o.models.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto* m : models) {
            auto a = registry::check_availability(*m);
            const auto& d = m->defaults;
            arr.push_back({{"name", m->name}, {"family", m->family}, {"kind", registry::to_string(m->kind)},
                           {"provider_model_id", m->provider_model_id}, {"description", m->description},
                           {"env_vars", split_words(m->env_vars)}, {"weights", m->weights},
                           {"defaults", {{"width", d.width}, {"height", d.height}, {"frames", d.frames},
                                         {"fps", d.fps}, {"duration_s", d.duration_s},
                                         {"steps", d.steps}, {"guidance", d.guidance}}},
                           {"built", a.built}, {"usable", a.usable}, {"missing", a.missing},
                           {"notes", m->notes}});
        }
        std::printf("%s\n", arr.dump(2).c_str());
        return 0;
    }

    std::string family;
    size_t usable = 0, families = 0;
    std::printf("  %-26s %-9s %-18s %-36s %s\n", "MODEL", "KIND", "STATUS", "NEEDS", "DESCRIPTION");
    for (const auto* m : models) {
        auto a = registry::check_availability(*m);
        if (family != m->family) {
            family = m->family;
            ++families;
            std::printf("\n%s\n", family.c_str());

        }
        const char* status = a.usable ? "ready" : !a.built ? "not in this build" : "needs setup";
        usable += a.usable ? 1 : 0;
        std::printf("  %-26s %-9s %-18s %-36s %s\n", m->name, registry::to_string(m->kind), status,
                    needs(*m).c_str(), m->description);
        if (o.verbose > 0) {
            for (const auto& why : a.missing) std::printf("  %-26s - %s\n", "", why.c_str());
        }
    }
    std::printf("\n%zu model(s) in %zu families; %zu ready on this machine.%s\n", models.size(),
                families, usable, o.verbose > 0 ? "" : " (-v says what each one is missing)");
    return 0;
}

}  // namespace vmeval::cli
