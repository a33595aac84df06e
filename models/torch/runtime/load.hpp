#pragma once

// Filling a module tree from a checkpoint, with every missing, unexpected and mis-shaped key named.

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

struct LoadOptions {
    at::Device device = at::kCPU;
    at::ScalarType dtype = at::kFloat;  ///< compute dtype of floating parameters (Keep::Float32 stays fp32)
    /// Checkpoint keys matching one of these prefixes are not reported as unexpected (e.g. buffers
    /// such as "position_ids" that transformers saves but never uses).
    std::vector<std::string> ignore_prefixes;
    /// Maps a checkpoint key to the module's name (original → diffusers names); identity when empty.
    std::function<std::string(const std::string&)> rename;
};

struct LoadReport {
    std::vector<std::string> missing;     ///< declared by the module, absent from the checkpoint
    std::vector<std::string> unexpected;  ///< in the checkpoint, not declared
    std::vector<std::string> mismatched;  ///< "name: checkpoint [a, b] vs module [c, d]"
    std::size_t loaded = 0;
    std::uint64_t bytes = 0;              ///< bytes after conversion

    bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
    /// One readable paragraph listing the problems (at most a few names of each kind).
    std::string summary() const;
};

/// Loads every declared parameter of `module` from `reader`. Nothing is changed unless all names
/// and shapes match; otherwise throws Error(Config) naming the checkpoint and the keys.
LoadReport load_weights(Module& module, const CheckpointReader& reader, const LoadOptions& options = {});
/// Checks names and shapes only, reading no tensor data.
LoadReport check_weights(Module& module, const CheckpointReader& reader, const LoadOptions& options = {});

}  // namespace vmeval::nn
