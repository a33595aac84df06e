#pragma once

// `vmeval pull`: fetches the files a model's pipeline reads from the Hugging Face Hub into the
// Hugging Face cache (or a plain folder), resuming partial files and verifying each one.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vmeval::weights {

struct PullOptions {
    std::vector<std::string> models;  ///< catalog names or "org/name" repository ids
    std::filesystem::path dir;  ///< plain folder (<dir>/<org>--<name>/<path>); empty = the HF cache
    std::string revision;       ///< overrides each repository's revision when set
    int jobs = 4;               ///< files downloaded at once
    bool dry_run = false;       ///< list the files and the space needed, fetch nothing
};

struct PullResult {
    int files_downloaded = 0;
    int files_present = 0;
    std::uint64_t bytes_downloaded = 0;
    std::vector<std::string>
        not_pulled;  ///< models or repositories left without their files, with why
};

/// Runs the pull; progress goes to the log. Throws Error(Usage) for unknown names, Error(Io) when
/// the disk is too small, Error(Config) when offline and files are missing; a repository that
/// fails to download is reported in `not_pulled` and the others still run.
PullResult pull(const PullOptions& options);

/// Free bytes where `path` (or its nearest existing parent) lives; VMEVAL_PULL_FREE_BYTES overrides
/// it, for tests of the not-enough-space refusal.
std::uint64_t free_bytes(const std::filesystem::path& path);

/// "1.5 GiB" style sizes.
std::string human_bytes(std::uint64_t bytes);

}  // namespace vmeval::weights
