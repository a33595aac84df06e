#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace vmeval::fs_util {

namespace fs = std::filesystem;

/// Reads a whole file; throws Error(Io) naming the file.
std::string read_file(const fs::path& path);
/// Writes through a temporary sibling, fsyncs and renames, so readers see the old or the new file only.
void write_file_atomic(const fs::path& path, std::string_view content);
/// Copies a file (following symlinks), throwing Error(Io) naming both paths.
void copy_file(const fs::path& from, const fs::path& to);
/// fsyncs a directory so that a rename inside it survives a crash.
void sync_directory(const fs::path& dir);
/// True when `path`, after resolving symlinks, lies inside `root` (also resolved).
bool is_within(const fs::path& path, const fs::path& root);

}  // namespace vmeval::fs_util
