#pragma once

// Finding a component's weights on disk: single files, sharded checkpoints described by a
// `*.safetensors.index.json` ({"metadata": {...}, "weight_map": {tensor: shard file}}), and the
// precision variants diffusers publishes side by side (`diffusion_pytorch_model.fp16.safetensors`).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmeval::weights {

namespace fs = std::filesystem;

/// What an index file promises.
struct CheckpointIndex {
    fs::path index_file;                         ///< the index itself
    std::optional<std::uint64_t> total_size;     ///< metadata.total_size when given
    std::map<std::string, fs::path> weight_map;  ///< tensor name -> shard path (next to the index)
    std::vector<fs::path> shards;                ///< distinct shard paths, sorted
};

/// Parses index JSON. Shard names must be plain file names in the index's folder (no folders, no
/// "..": an index must not point elsewhere on disk). Throws Error(Config) naming `index_file`.
CheckpointIndex parse_index(std::string_view text, const fs::path& index_file);

/// Reads an index and checks that every shard exists, is a valid safetensors file and holds every
/// tensor the index assigns to it. Throws Error(Config) naming the index, the shard and the tensor.
CheckpointIndex load_index(const fs::path& index_file);

/// The files that make up one component's weights.
struct WeightFiles {
    fs::path index;               ///< the index, empty for a single-file checkpoint
    std::vector<fs::path> files;  ///< the file(s) to load
};

/// Picks a component folder's weights: with `variant` ("fp16", "bf16"...) only files of that
/// variant (`<stem>.<variant>.safetensors`, `<stem>.<variant>.safetensors.index.json` or diffusers'
/// `<stem>.safetensors.index.<variant>.json`), without it only plain ones. An index wins over a
/// single file; `diffusion_pytorch_model` wins over `model` and other stems. Sharded checkpoints
/// are checked with load_index. Throws Error(Config) naming the folder and what it holds.
WeightFiles select_weights(const fs::path& component_dir, const std::string& variant = "");

}  // namespace vmeval::weights
