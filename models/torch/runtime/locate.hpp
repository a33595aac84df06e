#pragma once

// Where a local model's weights are: a folder the user names, or the Hugging Face cache that the
// Python tools share (`$HF_HOME/hub/models--org--name/snapshots/<rev>/`).

#include <filesystem>
#include <string>
#include <vector>

namespace vmeval::nn {

/// What a pipeline needs on disk, by component folder: "unet" needs config.json and weights,
/// "scheduler" needs scheduler_config.json, "feature_extractor" preprocessor_config.json,
/// "tokenizer" the files listed in `tokenizer_files`.
struct PipelineRequirement {
    std::string model_name;                   ///< catalog name, for the fix ("vmeval pull svd")
    std::string repo_id;                      ///< "stabilityai/stable-video-diffusion-img2vid-xt"
    std::vector<std::string> weight_components;  ///< folders holding config.json + safetensors
    std::vector<std::string> config_only;     ///< folders with only a config (scheduler, feature_extractor)
    std::vector<std::string> tokenizer_files; ///< "tokenizer/spiece.model", ...
    std::string variant;                      ///< "fp16" to prefer `.fp16.` files when present
};

/// The pipeline folder: `explicit_dir` when not empty, else the cache snapshot of the repository
/// (revision "main"). Every required file is checked up front; throws Error(ModelUnavailable)
/// listing every missing file and how to fetch them (`vmeval pull <model>`), so a batch never
/// starts with half a model.
std::filesystem::path locate_pipeline(const PipelineRequirement& need, const std::string& explicit_dir);

}  // namespace vmeval::nn
