#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vmeval/core/error.hpp"
#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/video/contact_sheet.hpp"

namespace vmeval {

/// Seed used when none is given, so that two runs of the same command agree.
inline constexpr std::uint64_t kDefaultSeed = 42;

/// Options of one generation.
struct RunOptions {
    std::string domain = "adhoc";            ///< run() only: the `<domain>_task` folder to file it under
    std::string task_id;                     ///< run() only: defaults to the image's file name stem
    std::filesystem::path final_frame;       ///< run() only: optional goal image
    std::filesystem::path ground_truth;      ///< run() only: optional reference video, copied along
    std::uint64_t seed = kDefaultSeed;
    Params params;                           ///< model parameters (--param key=value)
    std::string batch_id;                    ///< recorded in metadata.json when set
    const std::atomic<bool>* cancel = nullptr;
    bool contact_sheet = true;               ///< write contact_sheet.png beside a successful video
    int contact_sheet_frames = video::kDefaultContactSheetFrames;  ///< generated frames it shows
    /// Asked just before a finished run is published; false drops the run (the batch's claim on the
    /// question was taken over by another worker, which will make its own run).
    std::function<bool()> still_claimed;
};

/// The outcome of one generation. A run folder exists when `run_dir` is not empty: successful and
/// failed generations are both kept; input problems and cancellations leave nothing behind.
struct RunResult {
    bool success = false;
    bool attempted = false;                  ///< the model was called (a failure here is a failed run)
    bool claim_lost = false;                 ///< dropped because still_claimed() said no
    std::string run_id;
    std::filesystem::path run_dir;
    std::filesystem::path video_path;        ///< empty unless success
    std::optional<ErrorCode> error_code;
    std::string error_message;
    double seconds = 0;
    nlohmann::json metadata;                 ///< what was written to metadata.json (null if nothing)
};

/// Runs models on questions and files the results as `<output>/<model>/<domain>_task/<task_id>/<run_id>/`
/// (video/generated_video.mp4, question/, metadata.json). Model wrappers are created once and reused.
/// Thread-safe: several threads may call run_question() at once; models that allow one generation
/// at a time are serialised here.
class InferenceRunner {
public:
    explicit InferenceRunner(std::filesystem::path output_dir);
    ~InferenceRunner();

    /// One image and prompt, like the original's Python API. Never throws for generation failures:
    /// they come back in the result. Throws Error(Usage/ModelUnavailable) for an unknown or unusable
    /// model.
    RunResult run(const std::string& model, const std::filesystem::path& image_path,
                  const std::string& prompt, const RunOptions& options = {});

    /// One discovered question. Never throws for per-question problems.
    RunResult run_question(const registry::ModelInfo& model, const questions::Question& question,
                           const RunOptions& options);

    /// The model's wrapper for these parameters, created on first use and reused by later calls
    /// with the same parameters (a call with other parameters gets a wrapper of its own).
    ModelWrapper& wrapper(const registry::ModelInfo& model, const Params& params);

    /// Serves `model_name` with your own wrapper instead of the catalog's, whatever the parameters:
    /// a model of your own (with a ModelInfo you define) or a stand-in for tests.
    void use_wrapper(const std::string& model_name, std::unique_ptr<ModelWrapper> wrapper);

    const std::filesystem::path& output_dir() const { return output_dir_; }

private:
    struct Loaded;
    Loaded& loaded(const registry::ModelInfo& model, const Params& params);

    std::filesystem::path output_dir_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Loaded>> models_;
};

}  // namespace vmeval
