#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace vmeval {
/// Lower-case hex SHA-256 of a file's bytes; throws Error(Io) naming the file.
std::string sha256_file(const std::filesystem::path& path);
/// Lower-case hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view data);
}  // namespace vmeval
