#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace vmeval::weights {

/// A read-only view of bytes owned elsewhere (a mapped file); valid while the owner lives.
struct ByteView {
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
};

/// A whole file mapped read-only into memory (mmap), unmapped on destruction. Checkpoints are
/// gigabytes: mapping lets tensors be read in place and only the pages used are loaded.
class MappedFile {
public:
    /// Opens and maps `path`; throws Error(Io) naming the file. An empty file maps to no bytes.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    /// The whole file.
    ByteView bytes() const { return {data_, size_}; }
    std::size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    void release() noexcept;

    std::filesystem::path path_;
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace vmeval::weights
