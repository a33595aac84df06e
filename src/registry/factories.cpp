// The family factories: one function per backend, chosen by a switch over the catalog's Backend.
// Backends that are not built in this binary have no factory and report so honestly.
#include "factories.hpp"

#include "models/baselines/baselines.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::registry {

bool backend_built(Backend backend) {
    switch (backend) {
        case Backend::Baseline: return true;
        default: return false;
    }
}

std::unique_ptr<ModelWrapper> make_wrapper(const ModelInfo& model, const Params& params) {
    switch (model.backend) {
        case Backend::Baseline: return baselines::make_baseline(model, params);
        default: break;
    }
    throw Error(ErrorCode::ModelUnavailable,
                std::string(model.name) + " is not available in this build: the " + model.family +
                    " backend is not implemented yet");
}

std::unique_ptr<ModelWrapper> create_model(const ModelInfo& model, const Params& params) {
    Availability a = check_availability(model);
    if (!a.usable) {
        std::string why;
        for (const auto& m : a.missing) why += (why.empty() ? "" : "; ") + m;
        throw Error(ErrorCode::ModelUnavailable, std::string(model.name) + " cannot run: " + why);
    }
    return make_wrapper(model, params);
}

}  // namespace vmeval::registry
