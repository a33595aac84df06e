#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmeval/video/image.hpp"

namespace vmeval {

/// Everything a model needs for one question. The runner has already validated and decoded the images.
struct GenerationRequest {
    const video::Image* first_frame = nullptr;      ///< decoded first_frame.png
    const video::Image* final_frame = nullptr;      ///< decoded final_frame.png, null when the question has none
    std::filesystem::path first_frame_path;
    std::filesystem::path final_frame_path;         ///< empty when absent
    std::string prompt;
    std::uint64_t seed = 0;
    std::filesystem::path video_path;               ///< where the model must write its MP4
    const std::atomic<bool>* cancel = nullptr;      ///< set when the user interrupts; long work should check it

    bool cancelled() const { return cancel != nullptr && cancel->load(); }
};

/// What a model reports back besides the video file.
struct GenerationResult {
    nlohmann::json parameters = nlohmann::json::object();  ///< parameters actually used (resolution, frames, fps, ...)
    nlohmann::json provider = nlohmann::json::object();    ///< provider-side facts (job id, ...), never secrets
    std::vector<std::pair<std::string, double>> phases;    ///< named phases with seconds, e.g. {"encode", 0.12}
    /// Local models: device, precision and peak memory ({"device": "cuda:0", "precision": "bf16",
    /// "peak_memory_bytes": N, "peak_memory_kind": "allocator_reserved"}); written to metadata.json
    /// as "resources" when not empty.
    nlohmann::json resources = nlohmann::json::object();
};

/// The interface every model implements: baselines, commercial APIs and local networks alike.
/// One instance serves a whole batch (weights load once). Failures throw vmeval::Error.
class ModelWrapper {
public:
    virtual ~ModelWrapper() = default;
    /// Produces request.video_path for one question.
    virtual GenerationResult generate(const GenerationRequest& request) = 0;
    /// How many generate() calls may run at once on this instance (local GPU models: 1).
    virtual int max_concurrency() const { return 1 << 16; }
    /// Whether the model needs final_frame.png (questions without one fail before generate()).
    virtual bool needs_final_frame() const { return false; }
};

}  // namespace vmeval
