#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vmeval::report {

namespace fs = std::filesystem;

/// A file shown by the gallery: where it lies under the output root and where the report puts it.
struct Media {
    fs::path source;  ///< absolute or output-relative path of the original
    std::string rel;  ///< '/'-separated path inside the report folder (`media/<model>/...`)
};

/// What the gallery shows for one model on one question: its newest run, or why there is none.
struct Cell {
    std::string model;
    std::string
        status;  ///< "done", "failed" or "skipped" (no run folder: refused or not attempted)
    std::string run_id;   ///< empty when skipped
    double seconds = -1;  ///< the run's wall time (metadata timings.duration_s); -1 when unknown
    std::string error_code;
    std::string message;   ///< the failure or the reason for the skip
    int earlier_runs = 0;  ///< older run folders of this model on this question
    int width = 0, height = 0, frames = 0;
    double fps = 0;
    std::optional<Media> video;
    std::optional<Media> contact_sheet;
};

/// One question as the runs copied it, with a cell for every model in the gallery.
struct Question {
    std::string domain;
    std::string task_id;
    std::string prompt;
    std::optional<Media> first_frame;
    std::optional<Media> final_frame;
    std::vector<Cell> cells;  ///< one per Gallery::models, in that order
};

/// One row of the summary table, over the newest run of each question.
struct ModelSummary {
    std::string model;
    int done = 0, failed = 0, skipped = 0;
    double median_s = -1;  ///< over done runs; -1 when there are none
    double total_s = 0;    ///< over every newest run, done or failed
};

/// Everything under an output root, ready to render.
struct Gallery {
    fs::path output_dir;
    std::vector<std::string> models;    ///< sorted
    std::vector<std::string> domains;   ///< sorted
    std::vector<Question> questions;    ///< sorted by domain, then task id
    std::vector<ModelSummary> summary;  ///< one per model, same order
    int runs = 0;                       ///< run folders seen, earlier ones included
    std::string latest_finished_at;     ///< newest timings.finished_at, empty when no run
};

/// Reads every finished run folder (`.partial-*` and `.claim-*` are ignored) and the batch
/// summaries in `<output>/_batches` (for the questions a model refused). Never throws for a
/// broken run: an unreadable metadata.json shows as a failed cell saying so.
Gallery scan_outputs(const fs::path& output_dir);

/// Every file the gallery links to, each once.
std::vector<Media> media_of(const Gallery& gallery);

}  // namespace vmeval::report
