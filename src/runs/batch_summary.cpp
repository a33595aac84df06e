#include <cstdio>
#include <string>

#include "vmeval/core/time.hpp"
#include "vmeval/runs/batch_runner.hpp"

namespace vmeval {

void print_batch_summary(const nlohmann::json& s, std::FILE* out) {
    const auto& t = s["totals"];
    std::fprintf(out, "\nBatch %s %s in %s\n", s.value("batch_id", "").c_str(),
                 s.value("interrupted", false) ? "INTERRUPTED" : "finished",
                 human_duration(s.value("duration_s", 0.0)).c_str());
    std::fprintf(out, "  %-26s %7s %7s %8s %8s %8s %9s %10s\n", "model", "success", "failed",
                 "refused", "skipped", "not run", "median", "total");
    for (const auto& name_json : s["models"]) {
        const std::string name = name_json.get<std::string>();
        const auto& m = s["by_model"][name];
        std::fprintf(out, "  %-26s %7d %7d %8d %8d %8d %9s %10s\n", name.c_str(),
                     m["success"].get<int>(), m["failed"].get<int>(), m["refused"].get<int>(),
                     m["skipped"].get<int>(), m["not_run"].get<int>(),
                     human_duration(m["median_s"].get<double>()).c_str(),
                     human_duration(m["total_s"].get<double>()).c_str());
    }
    std::fprintf(out, "  %-26s %7d %7d %8d %8d %8d\n", "all", t["success"].get<int>(),
                 t["failed"].get<int>(), t["refused"].get<int>(), t["skipped"].get<int>(),
                 t["not_run"].get<int>());
    size_t invalid = s.value("invalid_questions", 0u);
    if (invalid > 0) {
        std::fprintf(out, "  %zu invalid question(s) were not attempted (listed above and in the summary)\n",
                     invalid);
    }
    if (t["refused"].get<int>() > 0) {
        std::fprintf(out, "  refused = the question could not be attempted by that model (no run folder)\n");
    }
}

}  // namespace vmeval
