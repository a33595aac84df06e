#pragma once

// The two Hugging Face Hub calls `vmeval pull` makes:
//   GET  {endpoint}/api/models/{repo}/revision/{rev}?blobs=true  -> {sha, siblings[{rfilename,
//   size,
//        blobId, lfs{sha256, size}}]}
//   GET  {endpoint}/{repo}/resolve/{commit}/{path}  with Range: bytes=N- to resume -> 200 | 206
// 401/403 mean a gated (or private) repository; the token goes in Authorization: Bearer.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vmeval/weights/manifest.hpp"

namespace vmeval::weights {

/// Where the Hub is and who we are: HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN.
struct HubConfig {
    std::string endpoint;
    std::string token;  ///< registered with http::add_secret, never printed
};
/// Reads HF_ENDPOINT and HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN).
HubConfig hub_config_from_env();

/// A repository's files at a revision, and the commit that revision is.
struct RepoListing {
    std::string commit;
    std::vector<RemoteFile> files;
};
/// Lists a repository; throws Error(Http) naming the repository and the fix for 401/403/404.
RepoListing list_repo(const HubConfig& hub, const std::string& repo, const std::string& revision);

/// URL of a file at a commit.
std::string resolve_url(const HubConfig& hub, const std::string& repo, const std::string& commit,
                        const std::string& path);

/// Downloads `url` into `part`, appending after the bytes already there (Range request); a server
/// that ignores the range restarts the file. `received` grows as bytes arrive. Throws
/// Error(Network) when the transfer breaks off (the part file keeps what arrived) and Error(Http)
/// for error statuses (gated repositories with the licence hint).
void download_to_part(const HubConfig& hub, const std::string& repo, const std::string& url,
                      const std::filesystem::path& part, std::atomic<std::uint64_t>& received);

/// Text for a 401/403 from the Hub.
std::string gated_message(const std::string& repo, bool have_token);

}  // namespace vmeval::weights
