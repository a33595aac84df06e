#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace vmeval::runs {

/// What the newest completed run of a model on a question says.
struct PastRun {
    std::string run_id;
    std::filesystem::path dir;
    bool success = false;  ///< metadata says success AND the video probes as the metadata recorded
    std::string why;       ///< when not success: the recorded error or what the check found
};

/// The newest run folder of `model` under `task_dir`, checked; nullopt when there is none.
/// Half-written runs (`.partial-*`) are never considered.
std::optional<PastRun> latest_run(const std::filesystem::path& task_dir, const std::string& model,
                                  const std::string& task_id);

}  // namespace vmeval::runs
