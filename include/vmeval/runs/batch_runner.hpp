#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmeval/core/params.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/inference_runner.hpp"

namespace vmeval {

/// Everything `vmeval generate` asks for.
struct BatchOptions {
    std::filesystem::path questions_dir;
    std::filesystem::path output_dir;
    std::vector<const registry::ModelInfo*> models;
    questions::DiscoveryOptions discovery;
    bool dry_run = false;
    bool force = false;     ///< make a new run even when the latest one succeeded (old runs are kept)
    int jobs = 1;           ///< questions generated at once
    /// Static split: this worker takes the questions whose position in the sorted list is
    /// congruent to shard_index modulo shard_count (0/1: every question).
    int shard_index = 0;
    int shard_count = 1;
    std::uint64_t seed = kDefaultSeed;
    Params params;
    /// Where local models run and in which precision (`--device`, `--precision`); they reach a
    /// local model as its `device` and `precision` parameters unless --param sets those.
    std::string device = "auto";
    std::string precision = "auto";
    bool quiet = false;     ///< no per-question lines and no summary table
    bool verbose = false;   ///< list every planned job in a dry run
    std::vector<std::string> command_line;  ///< recorded in the batch summary
    const std::atomic<bool>* cancel = nullptr;
    bool contact_sheet = true;  ///< contact_sheet.png in every successful run
    int contact_sheet_frames = video::kDefaultContactSheetFrames;
    /// Runner to use (with wrappers added through use_wrapper); null = a fresh one.
    InferenceRunner* runner = nullptr;
};

/// What a batch did; the summary is also written to `<output>/_batches/<batch_id>.json`.
struct BatchReport {
    int exit_code = 0;  ///< 0 all succeeded or skipped, 1 some failed, 130 interrupted
    nlohmann::json summary;
    std::filesystem::path summary_path;  ///< empty for a dry run
    std::filesystem::path log_path;
};

/// Discovers, plans and runs a batch. Throws Error(Config/Usage/ModelUnavailable) for problems that
/// stop the batch before it starts; per-question problems never throw.
BatchReport run_batch(const BatchOptions& options);

/// Writes the human summary table of a finished batch.
void print_batch_summary(const nlohmann::json& summary, std::FILE* out);

}  // namespace vmeval
