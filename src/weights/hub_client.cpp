#include "vmeval/weights/hub_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/url.hpp"
#include "vmeval/core/version.hpp"
#include "vmeval/http/http.hpp"
#include "vmeval/weights/hub_cache.hpp"

namespace vmeval::weights {

namespace fs = std::filesystem;

namespace {

struct EasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string escape_segment(const std::string& s, bool keep_slash) { return percent_encode(s, keep_slash); }

std::string status_message(long status, const std::string& repo, const HubConfig& hub,
                           const std::string& what) {
    if (status == 401 || status == 403) return gated_message(repo, !hub.token.empty());
    if (status == 404) {
        return what + ": not found on " + hub.endpoint +
               " (HTTP 404); check the repository name and " + "--revision, or HF_ENDPOINT";
    }
    return what + ": HTTP " + std::to_string(status) + " from " + hub.endpoint;
}

/// What one transfer writes into: the part file, reopened from zero when the server sends the
/// whole file (200) to a range request.
struct Sink {
    fs::path path;
    std::uint64_t offset = 0;
    std::unique_ptr<std::FILE, FileCloser> file;
    CURL* handle = nullptr;
    long status = 0;
    std::string error_body;
    std::atomic<std::uint64_t>* received = nullptr;
    bool io_failed = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t n = size * count;
    if (s->status == 0) {
        curl_easy_getinfo(s->handle, CURLINFO_RESPONSE_CODE, &s->status);
        if (s->status == 200 || s->status == 206) {
            bool restart = s->status == 200 || s->offset == 0;
            s->file.reset(std::fopen(s->path.c_str(), restart ? "wb" : "ab"));
            if (!s->file) {
                s->io_failed = true;
                return 0;
            }
        }
    }
    if (!s->file) {
        if (s->error_body.size() < 4096) s->error_body.append(data, n);
        return n;
    }
    if (std::fwrite(data, 1, n, s->file.get()) != n) {
        s->io_failed = true;
        return 0;
    }
    s->received->fetch_add(n);
    return n;
}

}  // namespace

HubConfig hub_config_from_env() {
    HubConfig hub;
    hub.endpoint = env_or_empty("HF_ENDPOINT");
    if (hub.endpoint.empty()) hub.endpoint = "https://huggingface.co";
    while (!hub.endpoint.empty() && hub.endpoint.back() == '/') hub.endpoint.pop_back();
    hub.token = env_or_empty("HF_TOKEN");
    if (hub.token.empty()) hub.token = env_or_empty("HUGGING_FACE_HUB_TOKEN");
    if (!hub.token.empty()) http::add_secret(hub.token);
    return hub;
}

std::string gated_message(const std::string& repo, bool have_token) {
    return "gated repository " + repo + ": " +
           (have_token
                ? std::string("HF_TOKEN was refused; accept the model's licence on "
                              "https://huggingface.co/") +
                      repo +
                      " with the account that owns the token, and check the token can read it"
                : std::string("accept its licence on https://huggingface.co/") + repo +
                      " and set HF_TOKEN to an access token of that account");
}

std::string resolve_url(const HubConfig& hub, const std::string& repo, const std::string& commit,
                        const std::string& path) {
    return hub.endpoint + "/" + repo + "/resolve/" + escape_segment(commit, false) + "/" +
           escape_segment(path, true);
}

RepoListing list_repo(const HubConfig& hub, const std::string& repo, const std::string& revision) {
    auto transport = http::make_curl_transport();
    http::Client client(*transport, http::system_clock(), http::RetryPolicy{4, 0.5, 8.0, 30.0});
    http::Request req;
    req.url = hub.endpoint + "/api/models/" + repo + "/revision/" +
              escape_segment(revision, false) + "?blobs=true";
    req.timeout_s = 60;
    if (!hub.token.empty()) req.headers.push_back({"Authorization", "Bearer " + hub.token});
    http::Response res = client.send(req);
    if (!res.ok())
        throw Error(ErrorCode::Http, status_message(res.status, repo, hub, repo + "@" + revision));
    RepoListing out;
    try {
        auto j = nlohmann::json::parse(res.body);
        out.commit = j.at("sha").get<std::string>();
        for (const auto& s : j.at("siblings")) {
            RemoteFile f;
            f.path = s.at("rfilename").get<std::string>();
            if (s.contains("lfs") && s["lfs"].is_object()) {
                f.sha256 = s["lfs"].at("sha256").get<std::string>();
                f.size = s["lfs"].at("size").get<std::uint64_t>();
                f.etag = f.sha256;
            } else {
                f.size = s.value("size", std::uint64_t{0});
                f.etag = s.value("blobId", std::string());
            }
            if (f.etag.empty() || f.etag.find('/') != std::string::npos ||
                f.path.find("..") != std::string::npos) {
                throw Error(ErrorCode::Http, "bad entry for " + f.path);
            }
            out.files.push_back(std::move(f));
        }
    } catch (const std::exception& e) {
        throw Error(ErrorCode::Http, "unexpected file list for " + repo + " from " + hub.endpoint +
                                         " (" + e.what() + "); is HF_ENDPOINT a Hugging Face Hub?");
    }
    if (!is_commit_hash(out.commit)) {
        throw Error(ErrorCode::Http,
                    "the Hub answered no commit hash for " + repo + "@" + revision);
    }
    return out;
}

void download_to_part(const HubConfig& hub, const std::string& repo, const std::string& url,
                      const fs::path& part, std::atomic<std::uint64_t>& received) {
    static std::once_flag once;  // curl_global_init must run once, before any handle, on one thread
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    std::unique_ptr<CURL, EasyDeleter> h(curl_easy_init());
    if (!h) throw Error(ErrorCode::Network, "cannot create a libcurl handle");
    Sink sink;
    sink.path = part;
    sink.handle = h.get();
    sink.received = &received;
    std::error_code ec;
    if (fs::exists(part, ec)) sink.offset = fs::file_size(part, ec);
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add = [&](const std::string& line) {
        headers.reset(curl_slist_append(headers.release(), line.c_str()));
    };
    // Authorization goes only to the Hub's own host: libcurl drops custom auth headers on redirects
    // to another host (the CDN the Hub redirects LFS files to).
    if (!hub.token.empty()) add("Authorization: Bearer " + hub.token);
    add("Accept-Encoding: identity");
    std::string range = std::to_string(sink.offset) + "-";
    const std::string agent = std::string("vmeval/") + version();
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h.get(), CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h.get(), CURLOPT_USERAGENT, agent.c_str());
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 20L);
    // A stalled transfer (under 1 KB/s for 60 s) fails so the retry can resume it.
    curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    if (sink.offset > 0) curl_easy_setopt(h.get(), CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(h.get());
    if (sink.status == 0) curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &sink.status);
    sink.file.reset();
    if (sink.io_failed)
        throw Error(ErrorCode::Io,
                    "cannot write " + part.string() + " (disk full or not writable?)");
    if (sink.status == 416 && sink.offset > 0) return;  // already whole; the size check decides
    if (sink.status != 0 && sink.status != 200 && sink.status != 206) {
        throw Error(ErrorCode::Http, status_message(sink.status, repo, hub, http::redact(url)));
    }
    if (rc != CURLE_OK) {
        throw Error(ErrorCode::Network, http::redact(url) + ": " + curl_easy_strerror(rc));
    }
}

}  // namespace vmeval::weights
