#include "models/torch/runtime/locate.hpp"

#include "vmeval/core/error.hpp"
#include "vmeval/weights/checkpoint.hpp"
#include "vmeval/weights/hub_cache.hpp"

namespace vmeval::nn {

namespace fs = std::filesystem;

namespace {

std::string config_file_of(const std::string& component) {
    if (component == "scheduler") return "scheduler_config.json";
    if (component == "feature_extractor" || component == "image_processor") return "preprocessor_config.json";
    return "config.json";
}

}  // namespace

fs::path locate_pipeline(const PipelineRequirement& need, const std::string& explicit_dir) {
    fs::path root;
    if (!explicit_dir.empty()) {
        root = explicit_dir;
        if (!fs::is_directory(root))
            throw Error(ErrorCode::ModelUnavailable,
                        need.model_name + ": weights folder " + root.string() + " does not exist (--param weights=DIR " +
                            "names a diffusers folder holding model_index.json)");
    } else {
        auto snapshot = weights::find_snapshot(need.repo_id);
        if (!snapshot)
            throw Error(ErrorCode::ModelUnavailable,
                        need.model_name + ": the weights of " + need.repo_id + " are not in the Hugging Face cache (" +
                            weights::hub_cache_dir().string() + "); fetch them with `vmeval pull " + need.model_name +
                            "`, set HF_HOME to where your Python tools keep them, or pass --param weights=DIR");
        root = *snapshot;
    }
    std::vector<std::string> missing;
    if (!fs::is_regular_file(root / "model_index.json")) missing.push_back("model_index.json");
    for (const auto& c : need.weight_components) {
        if (!fs::is_regular_file(root / c / "config.json")) missing.push_back(c + "/config.json");
        if (!fs::is_directory(root / c)) {
            missing.push_back(c + "/*.safetensors");
            continue;
        }
        try {
            // The variant when it is there (half the download), else the full-precision files.
            try {
                if (!need.variant.empty()) (void)weights::select_weights(root / c, need.variant);
                else (void)weights::select_weights(root / c);
            } catch (const Error&) {
                (void)weights::select_weights(root / c);
            }
        } catch (const Error& e) {
            missing.push_back(c + "/*.safetensors (" + e.what() + ")");
        }
    }
    for (const auto& c : need.config_only)
        if (!fs::is_regular_file(root / c / config_file_of(c))) missing.push_back(c + "/" + config_file_of(c));
    for (const auto& f : need.tokenizer_files)
        if (!fs::is_regular_file(root / f)) missing.push_back(f);
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        throw Error(ErrorCode::ModelUnavailable,
                    need.model_name + ": " + root.string() + " is incomplete: missing " + list +
                        (explicit_dir.empty() ? "; run `vmeval pull " + need.model_name + "` to finish the download"
                                              : "; copy the whole diffusers repository " + need.repo_id + " there"));
    }
    return root;
}

}  // namespace vmeval::nn
