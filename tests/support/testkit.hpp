#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmeval::testkit {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& rel) const { return path_ / rel; }

private:
    fs::path path_;
};

/// Sets (or, with nullptr / std::nullopt, unsets) an environment variable for a scope and puts the
/// previous state back afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value);
    ScopedEnv(const char* name, std::optional<std::string> value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

/// Writes a small RGB PNG (a gradient with a square, so frames are not uniform) with stb.
void write_test_png(const fs::path& path, int width, int height, int seed = 0);
/// Writes a text file, creating parent folders.
void write_text(const fs::path& path, const std::string& text);
/// Reads a text file (empty string when missing).
std::string read_text(const fs::path& path);

/// Creates `<root>/<domain>_task/<id>/` with first_frame.png, prompt.txt and, when asked, final_frame.png.
fs::path make_question(const fs::path& root, const std::string& domain, const std::string& id,
                       bool with_final = true, int width = 64, int height = 48);

/// The first regular file named `name` anywhere below `root`; empty when there is none.
fs::path find_file(const fs::path& root, const std::string& name);

/// Result of running the built vmeval binary.
struct CommandResult {
    int exit_code = -1;
    std::string out;  ///< stdout
    std::string err;  ///< stderr
};
/// Runs the vmeval binary with arguments (no shell), capturing both streams. `env` entries are
/// "NAME=value" added to the current environment.
CommandResult run_vmeval(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

/// Starts a program (argv[0] is its path) without waiting: stdin from /dev/null, stdout and stderr
/// appended to `log`, `env` entries ("NAME=value") replacing or adding to the current environment.
/// Throws std::runtime_error when it cannot start.
int spawn_logged(const std::vector<std::string>& argv, const fs::path& log, const std::vector<std::string>& env = {});
/// Waits for a child started with spawn_logged; its exit code, or 128 + the signal that ended it.
int wait_exit(int pid);

/// The batch summaries (`<out>/_batches/*.json`) written so far, oldest first.
std::vector<nlohmann::json> batch_summaries(const fs::path& out);

/// Path of the built vmeval binary and of the source tree.
fs::path vmeval_binary();
fs::path source_dir();

}  // namespace vmeval::testkit
