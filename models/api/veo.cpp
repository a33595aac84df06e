// placeholder: being written
#include "models/api/providers.hpp"
#include "vmeval/core/error.hpp"
namespace vmeval::api {
std::unique_ptr<ModelWrapper> make_veo(const registry::ModelInfo& info, const Params&) {
    throw Error(ErrorCode::ModelUnavailable, std::string(info.name) + " is not available in this build");
}
}  // namespace vmeval::api
