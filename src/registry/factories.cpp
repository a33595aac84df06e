// The family factories: one function per backend, chosen by a switch over the catalog's Backend.
// Backends that are not built in this binary have no factory and report so honestly.
#include "factories.hpp"

#include <string>

#include "models/api/providers.hpp"
#include "models/baselines/baselines.hpp"
#include "local_backend.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::registry {

namespace {

using Factory = std::unique_ptr<ModelWrapper> (*)(const ModelInfo&, const Params&);

/// The factory of a backend, or null when this binary does not contain it.
Factory factory_of(Backend backend) {
    switch (backend) {
        case Backend::Baseline: return baselines::make_baseline;
        case Backend::Luma: return api::make_luma;
        case Backend::Veo: return api::make_veo;
        case Backend::Kling: return api::make_kling;
        case Backend::Sora: return api::make_sora;
        case Backend::Runway: return api::make_runway;
        default: return nullptr;  // open models: the LibTorch backend module, see make_local
    }
}

std::unique_ptr<ModelWrapper> make_local(const ModelInfo& model, const Params& params) {
    const auto& backend = open_backend();
    if (!backend.has_family(model.backend))
        throw Error(ErrorCode::ModelUnavailable, std::string(model.name) + ": the backend module does not carry the " +
                                                     model.family + " family");
    return backend.make_model(model, params);
}

}  // namespace

bool backend_built(Backend backend) { return factory_of(backend) != nullptr || local_family_built(backend); }

const char* unsupported_reason(const ModelInfo& model) {
    // gen4_aleph only edits videos given at an HTTPS URL; image_to_video rejects it, and a
    // question holds no video to give it. Sending anything would be a request the API refuses.
    if (std::string(model.name) == "runway-gen4-aleph") {
        return "runway-gen4-aleph is video-to-video only (Runway's gen4_aleph edits a video given at "
               "an HTTPS URL) and image-to-video questions give it nothing it accepts; use "
               "runway-gen4-turbo";
    }
    return nullptr;
}

std::unique_ptr<ModelWrapper> make_wrapper(const ModelInfo& model, const Params& params) {
    if (const char* why = unsupported_reason(model)) throw Error(ErrorCode::ModelUnavailable, why);
    if (Factory f = factory_of(model.backend)) return f(model, params);
    if (model.kind == Kind::Local && local_family_built(model.backend)) return make_local(model, params);
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
