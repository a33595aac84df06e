#include "vmeval/runs/resume.hpp"

#include "vmeval/core/error.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/probe.hpp"

namespace vmeval::runs {

std::optional<PastRun> latest_run(const std::filesystem::path& task_dir, const std::string& model,
                                  const std::string& task_id) {
    auto runs = list_runs(task_dir, model, task_id);
    if (runs.empty()) return std::nullopt;
    const RunName& last = runs.back();
    PastRun past{last.run_id, task_dir / last.run_id, false, ""};

    auto meta = read_metadata(past.dir);
    if (!meta) {
        past.why = "metadata.json is missing or unreadable";
        return past;
    }
    if (meta->value("status", "") != "success") {
        const auto& err = (*meta)["error"];
        past.why = err.is_object() ? err.value("message", "failed") : "failed";
        return past;
    }
    const auto& out = (*meta)["output"];
    if (!out.is_object()) {
        past.why = "metadata.json has no output section";
        return past;
    }
    // The video must still be the one the run recorded: same frame count and size on disk.
    try {
        auto probe = video::probe_video(past.dir / kVideoDir / kVideoFile);
        if (probe.frames != out.value("frames", -1) ||
            static_cast<long long>(probe.bytes) != out.value("bytes", -1LL)) {
            past.why = "the video no longer matches metadata.json (frames or size changed)";
            return past;
        }
    } catch (const Error& e) {
        past.why = e.what();
        return past;
    }
    past.success = true;
    return past;
}

}  // namespace vmeval::runs
