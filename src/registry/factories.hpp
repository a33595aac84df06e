#pragma once

// Internal seam between the catalog/resolver (registry.cpp) and the family factories
// (factories.cpp): the resolver only needs to know whether a backend exists in this binary.

#include <memory>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::registry {

/// Whether `backend`'s factory is compiled into this binary (API clients, LibTorch families).
bool backend_built(Backend backend);

/// Why this binary can never run `model` although its backend is built (nullptr when it can).
const char* unsupported_reason(const ModelInfo& model);

/// Builds the wrapper for `model` through its family's factory with the user's --param values.
std::unique_ptr<ModelWrapper> make_wrapper(const ModelInfo& model, const Params& params);

}  // namespace vmeval::registry
