#pragma once

// Which files of which Hugging Face repositories a local model's pipeline reads, so that
// `vmeval pull` fetches those and not whole repositories (unused variants, root single-file
// checkpoints that duplicate the diffusers folders, README images).

#include <cstdint>
#include <string>
#include <vector>

#include "vmeval/registry/registry.hpp"

namespace vmeval::weights {

/// One repository and the files wanted from it.
struct RepoSpec {
    std::string repo;  ///< "org/name"
    std::string revision = "main";
    std::vector<std::string> allow;  ///< globs; '*' does not cross '/'
    std::string variant;             ///< diffusers weight variant ("fp16"), "" for the plain files
};

/// What pulling a model means.
struct ModelManifest {
    std::string model;
    std::vector<RepoSpec> repos;  ///< empty when the weights must be fetched by hand
    std::string manual;  ///< where to get the weights and where to put them, when repos is empty
};

/// A file of a repository as the Hub lists it.
struct RemoteFile {
    std::string path;
    std::uint64_t size = 0;
    std::string etag;    ///< the cache's blob name: LFS sha256, else the git blob id
    std::string sha256;  ///< LFS files only
};

/// The allow-list of a diffusers folder: model_index.json and each component's configs, tokenizer
/// files and safetensors weights, never files at the root besides model_index.json.
std::vector<std::string> diffusers_allow();
/// The manifest of a catalog model; throws Error(Usage) for models that are not local.
ModelManifest manifest_for(const registry::ModelInfo& model);
/// A manifest for a repository named directly ("org/name"), read as a diffusers folder.
ModelManifest manifest_for_repo(const std::string& repo_id, const std::string& revision = "main");
/// fnmatch-style match where '*' and '?' stay within one path segment.
bool glob_match(const std::string& pattern, const std::string& path);
/// The variant tag of a weight file ("fp16" in model.fp16.safetensors or
/// x.safetensors.index.fp16.json), "" for plain weights and for files that are not weights.
std::string weight_variant(const std::string& path);
/// The files of `listing` the spec wants: allowed by a glob, and in each folder that has weights of
/// the chosen variant only those, else only the plain ones.
std::vector<RemoteFile> select_files(const RepoSpec& spec, const std::vector<RemoteFile>& listing);

}  // namespace vmeval::weights
