#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"

namespace vmeval::registry {

enum class Kind { Baseline, Api, Local };

/// Which implementation serves a model; every family shares one factory.
enum class Backend {
    Baseline,
    Luma, Veo, Kling, Sora, Runway,
    Svd, LtxVideo, Ltx2, Hunyuan, VideoCrafter, DynamiCrafter, Morphic, Wan, CogVideoX, SanaVideo,
};

/// Default generation settings as the catalog defines them (0 = not applicable / provider decides).
struct Defaults {
    int width = 0;
    int height = 0;
    int frames = 0;
    double fps = 0;
    double duration_s = 0;
    int steps = 0;
    double guidance = 0;
};

/// One row of the catalog.
struct ModelInfo {
    const char* name;               ///< catalog name, e.g. "luma-ray-2"
    const char* family;             ///< display family, e.g. "Luma Dream Machine"
    Kind kind;
    Backend backend;
    const char* provider_model_id;  ///< id sent to the provider or the weights repository
    const char* description;
    const char* env_vars;           ///< required environment variables, space separated ("" = none)
    const char* weights;            ///< where the weights come from ("" for APIs and baselines)
    Defaults defaults;
    const char* notes;              ///< how we differ from the original, if at all ("" = same)
};

/// The whole catalog: the 33 models of the original plus vmeval's baselines, in display order.
const std::vector<ModelInfo>& all_models();
/// Exact (case-sensitive) lookup; null when unknown.
const ModelInfo* find_model(std::string_view name);
/// Display name of a kind: "baseline", "api", "local".
const char* to_string(Kind kind);

/// Expands selectors into models, in first-seen order without duplicates. A selector is a catalog
/// name, a comma-separated list, a family name (case-insensitive), a glob ("veo-*", "wan-2.?-*"), or
/// "all-baselines", "all-api", "all-local", "all". Throws Error(Usage) for a selector that matches
/// nothing, with the closest names as a "did you mean" hint.
std::vector<const ModelInfo*> resolve(const std::vector<std::string>& selectors);

/// Up to `n` catalog names closest to `name` (edit distance), best first.
std::vector<std::string> suggest(std::string_view name, size_t n = 3);

/// Whether a model can run right now on this machine, and what it needs.
struct Availability {
    bool built = false;                    ///< its backend is compiled into this binary
    bool usable = false;                   ///< built and every requirement is met
    std::vector<std::string> missing;      ///< unmet requirements, each with its fix
};
Availability check_availability(const ModelInfo& model);

/// Builds the model's wrapper (through its family's factory) with the user's --param values.
/// Throws Error(ModelUnavailable) when the backend is not built or a requirement is missing, and
/// Error(Usage) for parameters the model does not take.
std::unique_ptr<ModelWrapper> create_model(const ModelInfo& model, const Params& params);

}  // namespace vmeval::registry
