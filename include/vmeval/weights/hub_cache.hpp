#pragma once

// The Hugging Face cache layout, shared with Python tools (huggingface_hub, diffusers):
//   <cache>/models--<org>--<name>/blobs/<etag>            file contents, named by ETag
//   <cache>/models--<org>--<name>/refs/<revision>         the commit hash a branch or tag points at
//   <cache>/models--<org>--<name>/snapshots/<commit>/<path> -> relative symlink into blobs/

#include <filesystem>
#include <optional>
#include <string>

namespace vmeval::weights {

/// $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
/// ~/.cache/huggingface/hub.
std::filesystem::path hub_cache_dir();
/// <cache>/models--org--name for a repository id "org/name".
std::filesystem::path repo_cache_dir(const std::string& repo_id,
                                     const std::filesystem::path& cache);
/// True for a 40-character lower-case hex commit hash.
bool is_commit_hash(const std::string& revision);
/// The commit a revision points at in the cache (refs/<revision>, or the revision itself when it is
/// a commit hash with a snapshot folder); empty when unknown.
std::string cached_commit(const std::filesystem::path& repo_dir, const std::string& revision);
/// snapshots/<commit> of a repository in `cache` when it exists.
std::optional<std::filesystem::path> find_snapshot_in(const std::filesystem::path& cache,
                                                      const std::string& repo_id,
                                                      const std::string& revision = "main");
/// The snapshot folder of a repository in hub_cache_dir(); what the model loader opens.
std::optional<std::filesystem::path> find_snapshot(const std::string& repo_id,
                                                   const std::string& revision = "main");
/// Records that `revision` points at `commit` (refs/<revision>); a commit hash needs no ref.
void write_ref(const std::filesystem::path& repo_dir, const std::string& revision,
               const std::string& commit);
/// Points snapshots/<commit>/<path> at blobs/<etag> with a relative symlink, replacing what was
/// there.
void link_snapshot_file(const std::filesystem::path& repo_dir, const std::string& commit,
                        const std::string& path, const std::string& etag);
/// True when HF_HUB_OFFLINE is 1, true, yes or on (any case), as huggingface_hub reads it.
bool hub_offline();

}  // namespace vmeval::weights
