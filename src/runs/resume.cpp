#include "vmeval/runs/resume.hpp"

#include <cstdint>

#include "vmeval/core/error.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/probe.hpp"

namespace vmeval::runs {

namespace {

// metadata.json is outside input on resume (edited, truncated, written by another version): a
// field of an unexpected type must make the run "not done", never throw a JSON exception.

std::string text_or(const nlohmann::json& object, const char* key, const std::string& fallback) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

/// An integer field, or -1 (which no probe reports) when absent or not an integer: a float is not
/// converted, since a huge one would overflow.
long long whole_or_minus_one(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_integer()) return -1;
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > 0x7fffffffffffffffull) return -1;
    return it->get<long long>();
}

}  // namespace

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
    if (text_or(*meta, "status", "") != "success") {
        auto err = meta->find("error");
        const bool has_error = err != meta->end() && err->is_object();
        past.why = has_error ? text_or(*err, "message", "failed") : "failed";
        return past;
    }
    auto out_it = meta->find("output");
    if (out_it == meta->end() || !out_it->is_object()) {
        past.why = "metadata.json has no output section";
        return past;
    }
    const nlohmann::json& out = *out_it;
    // The video must still be the one the run recorded: same frame count and size on disk.
    try {
        auto probe = video::probe_video(past.dir / kVideoDir / kVideoFile);
        if (probe.frames != whole_or_minus_one(out, "frames") ||
            static_cast<long long>(probe.bytes) != whole_or_minus_one(out, "bytes")) {
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
