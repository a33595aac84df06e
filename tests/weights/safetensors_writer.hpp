#pragma once

// Writes safetensors files for the tests, so that no checkpoint is ever downloaded.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vmeval::testkit {

struct TestTensor {
    std::string name;
    std::string dtype;  ///< header spelling, e.g. "F32"
    std::vector<std::uint64_t> shape;
    std::string bytes;  ///< raw little-endian data
};

/// The 8-byte length, `header_json` and `data`, exactly as given (for malformed files).
std::string safetensors_bytes(const std::string& header_json, const std::string& data);

/// A valid file's bytes: the tensors laid out one after another in the order given.
std::string safetensors_bytes(const std::vector<TestTensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

/// F32 tensor of `shape` holding 0, 1, 2, ... (as floats).
TestTensor iota_f32(const std::string& name, std::vector<std::uint64_t> shape);

/// Writes bytes to a file (creating parent folders).
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

}  // namespace vmeval::testkit
