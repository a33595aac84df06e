#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vmeval/registry/registry.hpp"

namespace vmeval::doctor {

enum class Status {
    Ok,       ///< present
    Missing,  ///< the model cannot run until this is fixed (`vmeval generate` refuses it too)
    Warn,     ///< it can run, but probably not well (no GPU, too little GPU memory)
};
const char* to_string(Status s);

/// One line of the report: what was checked, what was found and, unless Ok, how to fix it.
struct Check {
    std::string what;
    Status status = Status::Ok;
    std::string found;
    std::string fix;
};

/// A GPU as nvidia-smi reports it.
struct Gpu {
    int index = 0;
    std::string name;
    double total_gib = 0;
    double free_gib = 0;
};

/// The GPUs this process may use: nvidia-smi's list, limited to CUDA_VISIBLE_DEVICES when set.
/// `why_none` says why the list is empty (no nvidia-smi, or it failed).
std::vector<Gpu> detect_gpus(std::string* why_none = nullptr);

/// GPU memory a local model needs at its default settings, in GiB, with where the figure comes
/// from; nullopt for models that run without a GPU.
struct MemoryNeed {
    double gib = 0;
    const char* source = "";
};
std::optional<MemoryNeed> gpu_memory_need(const registry::ModelInfo& model);

struct ModelReport {
    const registry::ModelInfo* model = nullptr;
    bool ready = false;  ///< no Missing check: `vmeval generate` will start it
    std::vector<Check> checks;
};

/// Everything a model needs, checked the way `vmeval generate` checks before a batch (it builds
/// the model's client), plus what generate cannot see: weights in the Hugging Face cache and GPU
/// memory. Never contacts a provider; never prints a secret.
ModelReport check_model(const registry::ModelInfo& model, const std::vector<Gpu>& gpus,
                        const std::string& gpu_problem);

/// The LibTorch backend module that runs local models: where it is and what it sees once loaded.
struct LocalRuntime {
    std::string module;       ///< path of libvmeval_torch_backend.so, empty when there is none
    bool loaded = false;
    std::string description;  ///< "LibTorch 2.x, 1 CUDA device(s)" once loaded
    std::string problem;      ///< why it is absent or did not load, with the fix
};
/// Finds and loads the module (LibTorch loads with it: a second or more).
LocalRuntime probe_local_runtime();

}  // namespace vmeval::doctor
