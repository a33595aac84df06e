#pragma once

// Finding and opening the LibTorch backend module (include/vmeval/models/local_backend.hpp).

#include <filesystem>
#include <string>

#include "vmeval/models/local_backend.hpp"

namespace vmeval::registry {

/// Where the module is looked for: $VMEVAL_TORCH_BACKEND when set, else next to the executable,
/// else <prefix>/lib/vmeval/ for an installed vmeval. Empty when none exists.
std::filesystem::path backend_module_path();
/// Whether this build made a backend module carrying `backend`'s family, and the module is on disk.
/// Cheap: nothing is loaded.
bool local_family_built(Backend backend);
/// Opens the module once per process (LibTorch loads with it). Throws Error(ModelUnavailable) with
/// the loader's message and the fix when it cannot be opened or comes from another build.
const local::Backend& open_backend();

}  // namespace vmeval::registry
