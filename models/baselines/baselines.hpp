#pragma once

#include <memory>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::baselines {

/// Builds baseline-still or baseline-crossfade. Parameters: frames (1-1000), fps (0.1-120).
std::unique_ptr<ModelWrapper> make_baseline(const registry::ModelInfo& model, const Params& params);

}  // namespace vmeval::baselines
