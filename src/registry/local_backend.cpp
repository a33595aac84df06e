#include "local_backend.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "vmeval/core/error.hpp"
#include "vmeval/core/version.hpp"

#ifndef VMEVAL_LOCAL_FAMILIES
#define VMEVAL_LOCAL_FAMILIES ""
#endif

namespace vmeval::registry {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModuleName = "libvmeval_torch_backend.so";

fs::path executable_dir() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

/// Catalog backend names of the families compiled into the module ("svd wan"), set by CMake.
bool family_in_build(Backend backend) {
    const char* names[] = {"baseline", "luma", "veo", "kling", "sora", "runway", "svd", "ltx_video", "ltx2",
                           "hunyuan", "videocrafter", "dynamicrafter", "morphic", "wan", "cogvideox", "sana_video"};
    std::istringstream built(VMEVAL_LOCAL_FAMILIES);
    std::string name;
    while (built >> name)
        if (name == names[static_cast<int>(backend)]) return true;
    return false;
}

}  // namespace

fs::path backend_module_path() {
    if (const char* env = std::getenv("VMEVAL_TORCH_BACKEND"); env != nullptr && *env != '\0') return env;
    auto dir = executable_dir();
    if (dir.empty()) return {};
    for (const auto& candidate : {dir / kModuleName, dir / ".." / "lib" / "vmeval" / kModuleName}) {
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) return candidate;
    }
    return {};
}

bool local_family_built(Backend backend) { return family_in_build(backend) && !backend_module_path().empty(); }

const local::Backend& open_backend() {
    static std::mutex mutex;
    static const local::Backend* backend = nullptr;
    std::lock_guard<std::mutex> lock(mutex);
    if (backend != nullptr) return *backend;
    auto path = backend_module_path();
    if (path.empty())
        throw Error(ErrorCode::ModelUnavailable,
                    std::string("the LibTorch backend module (") + kModuleName +
                        ") is not next to the vmeval executable; build vmeval with LibTorch (setup/install_torch.sh, "
                        "then setup/build.sh) or set VMEVAL_TORCH_BACKEND to the module's path");
    // RTLD_LOCAL: the module's LibTorch symbols stay out of the executable's namespace.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        throw Error(ErrorCode::ModelUnavailable,
                    "cannot load the LibTorch backend " + path.string() + ": " + (why ? why : "unknown error") +
                        " (is the torch wheel that vmeval was built against still installed? setup/install_torch.sh)");
    }
    using Entry = const local::Backend* (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, "vmeval_local_backend_v1"));
    if (entry == nullptr)
        throw Error(ErrorCode::ModelUnavailable, path.string() + " is not a vmeval backend module (no vmeval_local_backend_v1)");
    const local::Backend* loaded = entry();
    std::string ours = std::string(version()) + " " + git_commit();
    if (loaded == nullptr || loaded->abi != local::kBackendAbi || loaded->build_id != ours)
        throw Error(ErrorCode::ModelUnavailable,
                    path.string() + " comes from another build (" + (loaded ? loaded->build_id : "?") + ", this is " +
                        ours + "); rebuild both with setup/build.sh");
    backend = loaded;  // never closed: LibTorch does not support being unloaded
    return *backend;
}

}  // namespace vmeval::registry
