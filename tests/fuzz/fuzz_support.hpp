#pragma once

// What every fuzz target shares: a private temporary folder (targets never write elsewhere) and
// a way to put the input into a file, since most readers of outside input take a path.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace vmeval::fuzz {

namespace fs = std::filesystem;

/// A folder of this process under $TMPDIR (or /tmp), created on first use, removed at exit.
inline const fs::path& scratch_dir() {
    static const fs::path dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string pattern =
            std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/vmeval-fuzz-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) std::abort();
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(scratch_dir(), ec);
        });
        return fs::path(pattern);
    }();
    return dir;
}

/// Writes `bytes` to `path` (truncating), creating its folder.
inline void write_file(const fs::path& path, std::string_view bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) std::abort();  // the scratch folder must be writable: a broken setup, not a finding
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace vmeval::fuzz
