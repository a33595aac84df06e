#include "vmeval/weights/hub_cache.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"

namespace vmeval::weights {

namespace fs = std::filesystem;

fs::path hub_cache_dir() {
    // The same precedence as huggingface_hub's constants, so both tools share one cache.
    for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
        std::string v = env_or_empty(name);
        if (!v.empty()) return v;
    }
    std::string home = env_or_empty("HF_HOME");
    if (!home.empty()) return fs::path(home) / "hub";
    std::string xdg = env_or_empty("XDG_CACHE_HOME");
    if (!xdg.empty()) return fs::path(xdg) / "huggingface" / "hub";
    std::string user_home = env_or_empty("HOME");
    return fs::path(user_home.empty() ? "." : user_home) / ".cache" / "huggingface" / "hub";
}

fs::path repo_cache_dir(const std::string& repo_id, const fs::path& cache) {
    std::string name = "models--" + repo_id;
    for (size_t pos = 0; (pos = name.find('/', pos)) != std::string::npos; pos += 2)
        name.replace(pos, 1, "--");
    return cache / name;
}

bool is_commit_hash(const std::string& revision) {
    return revision.size() == 40 &&
           std::all_of(revision.begin(), revision.end(),
                       [](unsigned char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

std::string cached_commit(const fs::path& repo_dir, const std::string& revision) {
    std::error_code ec;
    if (is_commit_hash(revision) && fs::is_directory(repo_dir / "snapshots" / revision, ec))
        return revision;
    std::ifstream in(repo_dir / "refs" / revision);
    std::string commit;
    if (!(in >> commit) || !is_commit_hash(commit)) return "";
    return commit;
}

std::optional<fs::path> find_snapshot_in(const fs::path& cache, const std::string& repo_id,
                                         const std::string& revision) {
    fs::path repo_dir = repo_cache_dir(repo_id, cache);
    std::string commit = cached_commit(repo_dir, revision);
    if (commit.empty()) return std::nullopt;
    fs::path snap = repo_dir / "snapshots" / commit;
    std::error_code ec;
    if (!fs::is_directory(snap, ec)) return std::nullopt;
    return snap;
}

std::optional<fs::path> find_snapshot(const std::string& repo_id, const std::string& revision) {
    return find_snapshot_in(hub_cache_dir(), repo_id, revision);
}

void write_ref(const fs::path& repo_dir, const std::string& revision, const std::string& commit) {
    if (revision == commit) return;
    fs::path ref = repo_dir / "refs" / revision;  // a branch such as "refs/pr/1" nests folders
    std::error_code ec;
    fs::create_directories(ref.parent_path(), ec);
    fs_util::write_file_atomic(ref, commit);
}

void link_snapshot_file(const fs::path& repo_dir, const std::string& commit,
                        const std::string& path, const std::string& etag) {
    fs::path link = repo_dir / "snapshots" / commit / path;
    std::error_code ec;
    fs::create_directories(link.parent_path(), ec);
    if (ec)
        throw Error(ErrorCode::Io,
                    "cannot create " + link.parent_path().string() + ": " + ec.message());
    fs::path target = fs::path(repo_dir / "blobs" / etag).lexically_relative(link.parent_path());
    fs::remove(link, ec);
    fs::create_symlink(target, link, ec);
    if (ec) {
        throw Error(ErrorCode::Io,
                    "cannot link " + link.string() + " to its blob: " + ec.message() +
                        " (the cache folder must be on a file system with symlinks)");
    }
}

bool hub_offline() {
    std::string v = env_or_empty("HF_HUB_OFFLINE");
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

}  // namespace vmeval::weights
