#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vmeval/core/time.hpp"

namespace vmeval::runs {

namespace fs = std::filesystem;

/// Names inside a run folder, as the original's documentation lays them out.
inline constexpr const char* kVideoDir = "video";
inline constexpr const char* kVideoFile = "generated_video.mp4";
inline constexpr const char* kQuestionDir = "question";
inline constexpr const char* kMetadataFile = "metadata.json";
/// A run is assembled under this prefix and renamed into place only when complete.
inline constexpr const char* kPartialPrefix = ".partial-";
/// Batch summaries and logs live here, beside the model folders.
inline constexpr const char* kBatchesDir = "_batches";

/// `<output>/<model>/<domain>_task/<task_id>`
fs::path task_dir(const fs::path& output, const std::string& model, const std::string& domain,
                  const std::string& task_id);

/// `<model>_<task_id>_<YYYYMMDD_HHMMSS>`, with `_<n>` appended for n > 1 (a second run in the same second).
std::string make_run_id(const std::string& model, const std::string& task_id, const std::string& stamp,
                        int n);

/// A run folder parsed back from its name.
struct RunName {
    std::string run_id;
    std::string stamp;  ///< YYYYMMDD_HHMMSS
    int n = 1;
};
/// Parses a run folder name of this model and task; nullopt for anything else.
std::optional<RunName> parse_run_id(const std::string& name, const std::string& model,
                                    const std::string& task_id);

/// A run being assembled: `partial` exists and is ours; `final` does not exist yet.
struct Reservation {
    std::string run_id;
    fs::path partial;
    fs::path final;
};

/// Creates `<task_dir>/.partial-<run_id>` with the first free suffix. mkdir is atomic, so two
/// workers can never take the same run id. Throws Error(Io).
Reservation reserve_run(const fs::path& task_dir, const std::string& model, const std::string& task_id,
                        Clock::time_point now);

/// Moves a finished run into place (rename, then fsync of the parent). Throws Error(Io).
void publish_run(const Reservation& r);

/// Deletes `.partial-*` folders in `task_dir` left by processes on this host that are no longer
/// alive (a killed worker). Folders of live processes and other hosts are left alone.
void remove_stale_partials(const fs::path& task_dir);

/// Deletes a leftover folder so that two workers deleting it at once cannot leave half of it: it is
/// first renamed to a private `.claim-<pid>-...` name (only one rename wins; the others do nothing),
/// then removed. If this process dies midway, the rest is attributed to it and cleaned later.
void discard_folder(const fs::path& dir);

/// Completed run folders of this model and task, oldest first (by stamp, then suffix).
std::vector<RunName> list_runs(const fs::path& task_dir, const std::string& model,
                               const std::string& task_id);

}  // namespace vmeval::runs
