#pragma once

// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {string: string}}, then the data section the offsets index (relative to it).
// Nothing here depends on LibTorch, so the loader of open models builds on it.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmeval/weights/mapped_file.hpp"

namespace vmeval::weights {

/// Element types of the format, as its specification lists them.
enum class DType {
    BOOL,
    F4,
    F6_E2M3,
    F6_E3M2,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    F8_E8M0,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    C64,
    F64,
    I64,
    U64,
};

/// The dtype spelled as in headers ("BF16"), or nullopt when the name is not one of them.
std::optional<DType> parse_dtype(std::string_view name);
/// The header spelling of a dtype.
const char* to_string(DType dtype);
/// Bits per element: 4 for F4, 6 for the F6 types, 8 to 64 for the others.
int bit_size(DType dtype);

/// Largest header accepted; real ones are kilobytes to a few megabytes.
inline constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

/// One tensor as the header describes it.
struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::uint64_t> shape;  ///< empty for a scalar
    std::uint64_t begin = 0;           ///< byte offsets relative to the data section
    std::uint64_t end = 0;

    std::uint64_t numel() const;
    std::uint64_t byte_size() const { return end - begin; }
};

/// A parsed and validated header.
struct Header {
    std::vector<TensorInfo> tensors;              ///< sorted by name
    std::map<std::string, std::string> metadata;  ///< "__metadata__", empty when absent
    std::uint64_t data_start = 0;                 ///< file offset of the data section (8 + N)
    std::uint64_t data_size = 0;                  ///< bytes in the data section

    /// The tensor called `name`, or nullptr.
    const TensorInfo* find(std::string_view name) const;
};

/// Parses and validates a header. `bytes` holds at least the first 8 + N bytes of the file,
/// `file_size` is the size of the whole file and `source` names it in errors. Checks: N bounded by
/// kMaxHeaderBytes and the file size, a JSON object of well-formed entries with known dtypes,
/// shape products and byte sizes without overflow, end - begin == numel * bits / 8, offsets inside
/// the data section, no overlaps and no unindexed bytes (as the reference implementation demands).
/// Throws Error(Config) naming the file and the tensor.
Header parse_header(std::string_view bytes, std::uint64_t file_size, const std::string& source);

/// Reads and validates only the header of a file (a few reads, no mapping).
Header read_header(const std::filesystem::path& path);

/// A safetensors file mapped into memory with its header parsed: tensors are read in place.
class SafetensorsFile {
public:
    /// Maps and validates `path`; throws Error(Io) when it cannot be read, Error(Config) when it
    /// is not a valid safetensors file.
    explicit SafetensorsFile(const std::filesystem::path& path);

    const Header& header() const { return header_; }
    const std::filesystem::path& path() const { return file_.path(); }
    /// The bytes of a tensor; throws Error(Config) naming the file when there is no such tensor.
    ByteView tensor_bytes(std::string_view name) const;
    ByteView tensor_bytes(const TensorInfo& tensor) const;

private:
    MappedFile file_;
    Header header_;
};

}  // namespace vmeval::weights
