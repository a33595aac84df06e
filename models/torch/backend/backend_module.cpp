// The backend module's entry point: what `vmeval` calls after dlopen.
#include "vmeval/models/local_backend.hpp"

#include "models/torch/runtime/device.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/version.hpp"

namespace vmeval::local {
namespace {

bool has_family(registry::Backend) {
    // Families register here as their pipelines land (issues 5 and 6).
    return false;
}

std::unique_ptr<ModelWrapper> make_model(const registry::ModelInfo& model, const Params&) {
    throw Error(ErrorCode::ModelUnavailable,
                std::string(model.name) + ": the " + model.family + " pipeline is not in this backend module yet");
}

}  // namespace
}  // namespace vmeval::local

extern "C" __attribute__((visibility("default"))) const vmeval::local::Backend* vmeval_local_backend_v1() {
    static const vmeval::local::Backend backend = [] {
        vmeval::local::Backend b;
        b.build_id = std::string(vmeval::version()) + " " + vmeval::git_commit();
        b.describe = [] { return vmeval::nn::runtime_description(); };
        b.has_family = &vmeval::local::has_family;
        b.make_model = &vmeval::local::make_model;
        return b;
    }();
    return &backend;
}
