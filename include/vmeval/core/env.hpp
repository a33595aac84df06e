#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vmeval {

/// Reads a .env file (KEY=VALUE lines, optional `export `, '#' comments, single or double quotes)
/// into the process environment without overriding variables that are already set, as the
/// original's python-dotenv did. Returns the names it set. A missing file is not an error; a
/// malformed line throws Error(Config) naming the file and line.
std::vector<std::string> load_dotenv(const std::filesystem::path& path);

/// The value of an environment variable, or empty when unset.
std::string env_or_empty(const char* name);

}  // namespace vmeval
