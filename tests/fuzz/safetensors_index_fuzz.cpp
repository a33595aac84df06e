// The sharded-checkpoint index parser: shard paths must always stay next to the index.

#include "fuzz_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/weights/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    const std::filesystem::path index = "/weights/unet/diffusion_pytorch_model.safetensors.index.json";
    try {
        weights::CheckpointIndex idx = weights::parse_index(fuzz::as_text(data, size), index);
        for (const auto& shard : idx.shards) {
            if (shard.parent_path() != index.parent_path()) std::abort();
            const std::string name = shard.filename().string();
            if (name.empty() || name == "." || name == "..") std::abort();
        }
        if (idx.weight_map.empty()) std::abort();
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Config) std::abort();
    }
    return 0;
}
