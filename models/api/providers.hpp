#pragma once

// Factories of the five commercial providers; registry/factories.cpp dispatches to them.

#include <memory>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::api {

std::unique_ptr<ModelWrapper> make_luma(const registry::ModelInfo& info, const Params& params);
std::unique_ptr<ModelWrapper> make_veo(const registry::ModelInfo& info, const Params& params);
std::unique_ptr<ModelWrapper> make_kling(const registry::ModelInfo& info, const Params& params);
std::unique_ptr<ModelWrapper> make_sora(const registry::ModelInfo& info, const Params& params);
std::unique_ptr<ModelWrapper> make_runway(const registry::ModelInfo& info, const Params& params);

}  // namespace vmeval::api
