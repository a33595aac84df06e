#pragma once

// The contract between the `vmeval` executable and the LibTorch backend module
// (libvmeval_torch_backend.so). The executable never links LibTorch: loading it costs a second or
// more and gigabytes of libraries, which API and baseline runs must not pay. The module is opened
// with dlopen the first time a local model is asked for. Both sides are built from one tree by one
// compiler, so C++ types cross the boundary; the ABI number and the build id guard against a module
// left over from another build.

#include <memory>
#include <string>

#include "vmeval/core/params.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::local {

inline constexpr int kBackendAbi = 2;

struct Backend {
    int abi = kBackendAbi;
    /// version() + " " + git_commit() of the build the module came from.
    std::string build_id;
    /// One line: LibTorch version and the CUDA devices it sees.
    std::string (*describe)() = nullptr;
    /// Whether the module carries a family's pipeline.
    bool (*has_family)(registry::Backend backend) = nullptr;
    /// Builds a local model; throws vmeval::Error like every factory.
    std::unique_ptr<ModelWrapper> (*make_model)(const registry::ModelInfo& model, const Params& params) = nullptr;
    /// What is missing from the model's weight files (every file named, with the fix), or "" when
    /// they are complete. Reads no weights: `vmeval doctor` calls it.
    std::string (*weights_problem)(const registry::ModelInfo& model, const Params& params) = nullptr;
};

}  // namespace vmeval::local

/// The module's one exported symbol.
extern "C" const vmeval::local::Backend* vmeval_local_backend_v1();
