// The backend module's entry point: what `vmeval` calls after dlopen.
#include "vmeval/models/local_backend.hpp"

#include "models/svd/svd_model.hpp"
#include "models/wan/wan_model.hpp"
#include "models/torch/runtime/device.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/version.hpp"

namespace vmeval::local {
namespace {

// Every family this module carries; CMake's VMEVAL_LOCAL_FAMILIES tells the executable the same
// list without loading the module.
bool has_family(registry::Backend backend) {
    return backend == registry::Backend::Svd || backend == registry::Backend::Wan ||
           backend == registry::Backend::Morphic;
}

std::unique_ptr<ModelWrapper> make_model(const registry::ModelInfo& model, const Params& params) {
    switch (model.backend) {
        case registry::Backend::Svd: return svd::make_svd(model, params);
        case registry::Backend::Wan:
        case registry::Backend::Morphic: return wan::make_wan(model, params);
        default: break;
    }
    throw Error(ErrorCode::ModelUnavailable,
                std::string(model.name) + ": the " + model.family + " pipeline is not in this backend module yet");
}

std::string weights_problem(const registry::ModelInfo& model, const Params& params) {
    switch (model.backend) {
        case registry::Backend::Svd: return svd::weights_problem(model, params);
        case registry::Backend::Wan:
        case registry::Backend::Morphic: return wan::weights_problem(model, params);
        default: return std::string(model.name) + ": the " + model.family + " pipeline is not in this backend module yet";
    }
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
        b.weights_problem = &vmeval::local::weights_problem;
        return b;
    }();
    return &backend;
}
