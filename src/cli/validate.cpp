#include <cstdio>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "vmeval/questions/question.hpp"

namespace vmeval::cli {

void setup_validate_command(CLI::App& app, Options& o) {
    auto& v = o.validate;
    auto* cmd = app.add_subcommand("validate",
                                   "Check a questions tree (decoding every image) without generating");
    cmd->add_option("--questions-dir", v.questions_dir, "Folder holding <domain>_task/ folders")
        ->envname("VMEVAL_QUESTIONS_DIR")
        ->capture_default_str();
    cmd->add_option("--task-id", v.task_ids, "Only these task folders");
    cmd->add_option("--domain", v.domains, "Only these domains");
    cmd->add_flag("--json", v.json, "Print the result as JSON");
}

int run_validate(const Options& o) {
    const auto& v = o.validate;
    questions::DiscoveryOptions opts;
    opts.task_ids = v.task_ids;
    opts.domains = v.domains;
    opts.decode_images = true;
    questions::Discovery d = questions::discover(v.questions_dir, opts);

    if (v.json) {
        nlohmann::json j = {{"questions_dir", v.questions_dir},
                            {"domains", d.domain_count},
                            {"valid", d.questions.size()},
                            {"invalid", d.problems.size()},
                            {"problems", nlohmann::json::array()}};
        for (const auto& p : d.problems) {
            j["problems"].push_back({{"domain", p.domain}, {"task_id", p.id}, {"file", p.file.string()},
                                     {"message", p.message}});
        }
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        for (const auto& p : d.problems) std::printf("%s: %s\n", p.file.c_str(), p.message.c_str());
        for (const auto& t : d.unmatched_task_ids) std::printf("--task-id %s matched no question\n", t.c_str());
        for (const auto& t : d.unmatched_domains) std::printf("--domain %s matched no domain\n", t.c_str());
        std::printf("%zu domain(s), %zu valid question(s), %zu with problems\n", d.domain_count,
                    d.questions.size(), d.problems.size());
    }
    return d.problems.empty() && !d.questions.empty() ? 0 : 1;
}

}  // namespace vmeval::cli
