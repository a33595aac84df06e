// A Hugging Face Hub file API under kHubPrefix, so HF_ENDPOINT=<mock>/hub tests `vmeval pull`:
//   GET /hub/api/models/<org>/<name>[/revision/<rev>]  -> {id, sha, gated, siblings[{rfilename,
//        size, blobId, lfs{sha256, size, pointerSize}}]}; 404 + X-Error-Code for unknown repos
//   GET /hub/api/models/<org>/<name>/tree/<rev>       -> [{type, path, size, oid, lfs}]
//   (huggingface_hub) GET|HEAD /hub/<org>/<name>/resolve/<rev>/<path>    -> the bytes with
//   X-Repo-Commit, ETag (sha256
//        for LFS files, git blob id otherwise), X-Linked-Etag/X-Linked-Size for LFS; Range -> 206
// Repositories are generated deterministically: a small diffusers-layout copy of
// stabilityai/stable-video-diffusion-img2vid-xt (plain and fp16 weights, root single-file
// checkpoints that pulls must skip) and vmeval-test/gated-tiny, which answers 401 to file requests
// without a bearer token (any token, or --required-key when set). Faults from --fault:
// hub-drop (an LFS body stops halfway) and hub-corrupt (one byte of an LFS body flipped).

#include <httplib.h>
#include <openssl/evp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <random>

#include "mock/mock_server.hpp"
#include "vmeval/core/hash.hpp"

namespace vmeval::mock {

namespace {

struct HubFile {
    std::string bytes;
    bool lfs = false;
    std::string etag;  ///< sha256 (LFS) or git blob id
};

struct HubRepo {
    bool gated = false;
    std::string commit;
    std::map<std::string, HubFile> files;
};

std::atomic<int> g_file_requests{0};
std::atomic<int> g_range_requests{0};

std::string sha1_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha1(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

std::string noise(const std::string& seed, size_t size) {
    std::mt19937_64 rng(std::hash<std::string>{}(seed));
    std::string out(size, '\0');
    for (auto& c : out) c = static_cast<char>(rng() & 0xff);
    return out;
}

void add_text(HubRepo& r, const std::string& path, const std::string& text) {
    // The Hub names small files by their git blob id: sha1("blob <size>\0" + bytes).
    r.files[path] = HubFile{
        text, false, sha1_hex("blob " + std::to_string(text.size()) + std::string(1, '\0') + text)};
}

/// A valid safetensors file of about `size` bytes: one tensor "weight" (F16 for a `.fp16.` variant,
/// F32 otherwise) of random bytes, so that what a pull fetches can be opened by the weights reader.
std::string safetensors_file(const std::string& path, size_t size) {
    const bool half = path.find(".fp16.") != std::string::npos;
    const size_t item = half ? 2 : 4;
    const size_t count = size / item;
    std::string header = std::string("{\"weight\":{\"dtype\":\"") + (half ? "F16" : "F32") + "\",\"shape\":[" +
                         std::to_string(count) + "],\"data_offsets\":[0," + std::to_string(count * item) + "]}}";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>((static_cast<std::uint64_t>(header.size()) >> (8 * i)) & 0xff);
    return out + header + noise(path, count * item);
}

void add_weights(HubRepo& r, const std::string& path, size_t size) {
    std::string bytes = safetensors_file(path, size);
    std::string sum = sha256_hex(bytes);
    r.files[path] = HubFile{std::move(bytes), true, sum};
}

void finish(HubRepo& r, const std::string& id) {
    std::string all = id;
    for (const auto& [path, f] : r.files) all += path + f.etag;
    r.commit = sha1_hex(all);
}

const std::map<std::string, HubRepo>& repos() {
    static const std::map<std::string, HubRepo> table = [] {
        std::map<std::string, HubRepo> t;
        HubRepo svd;
        add_text(svd, ".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n");
        add_text(svd, "README.md", "# Stable Video Diffusion (vmeval mock)\n");
        add_text(
            svd, "model_index.json",
            R"({"_class_name": "StableVideoDiffusionPipeline", "feature_extractor": ["transformers", "CLIPImageProcessor"], )"
            R"("image_encoder": ["transformers", "CLIPVisionModelWithProjection"], "scheduler": ["diffusers", "EulerDiscreteScheduler"], )"
            R"("unet": ["diffusers", "UNetSpatioTemporalConditionModel"], "vae": ["diffusers", "AutoencoderKLTemporalDecoder"]})");
        add_text(svd, "feature_extractor/preprocessor_config.json",
                 R"({"crop_size": 224, "do_normalize": true})");
        add_text(svd, "feature_extractor/special_tokens_map.json", "");
        add_text(svd, "scheduler/scheduler_config.json",
                 R"({"_class_name": "EulerDiscreteScheduler", "prediction_type": "v_prediction"})");
        add_text(svd, "image_encoder/config.json",
                 R"({"hidden_size": 1280, "projection_dim": 1024})");
        add_text(svd, "unet/config.json",
                 R"({"_class_name": "UNetSpatioTemporalConditionModel", "num_frames": 25})");
        add_text(svd, "vae/config.json",
                 R"({"_class_name": "AutoencoderKLTemporalDecoder", "latent_channels": 4})");
        add_weights(svd, "image_encoder/model.safetensors", 96 << 10);
        add_weights(svd, "image_encoder/model.fp16.safetensors", 48 << 10);
        add_weights(svd, "unet/diffusion_pytorch_model.safetensors", 512 << 10);
        add_weights(svd, "unet/diffusion_pytorch_model.fp16.safetensors", 256 << 10);
        add_weights(svd, "vae/diffusion_pytorch_model.safetensors", 64 << 10);
        add_weights(svd, "vae/diffusion_pytorch_model.fp16.safetensors", 32 << 10);
        add_weights(svd, "svd_xt.safetensors", 768 << 10);
        add_weights(svd, "svd_xt_image_decoder.safetensors", 128 << 10);
        finish(svd, "stabilityai/stable-video-diffusion-img2vid-xt");
        t["stabilityai/stable-video-diffusion-img2vid-xt"] = std::move(svd);

        HubRepo gated;
        gated.gated = true;
        add_text(gated, "model_index.json",
                 R"({"_class_name": "TinyPipeline", "unet": ["diffusers", "UNet2DModel"]})");
        add_text(gated, "unet/config.json", R"({"_class_name": "UNet2DModel"})");
        add_weights(gated, "unet/diffusion_pytorch_model.safetensors", 16 << 10);
        finish(gated, "vmeval-test/gated-tiny");
        t["vmeval-test/gated-tiny"] = std::move(gated);
        return t;
    }();
    return table;
}

void hub_error(httplib::Response& res, int status, const std::string& code,
               const std::string& message) {
    res.status = status;
    res.set_header("X-Error-Code", code);
    res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

const HubRepo* find_repo(const std::string& id, const std::string& revision,
                         httplib::Response& res) {
    auto it = repos().find(id);
    if (it == repos().end()) {
        hub_error(res, 404, "RepoNotFound", "Repository not found");
        return nullptr;
    }
    if (revision != "main" && revision != it->second.commit) {
        hub_error(res, 404, "RevisionNotFound", "Invalid rev id: " + revision);
        return nullptr;
    }
    return &it->second;
}

void model_info(const std::string& id, const std::string& revision, httplib::Response& res) {
    const HubRepo* r = find_repo(id, revision, res);
    if (r == nullptr) return;
    nlohmann::json siblings = nlohmann::json::array();
    for (const auto& [path, f] : r->files) {
        nlohmann::json s = {{"rfilename", path}, {"size", f.bytes.size()}};
        if (f.lfs) {
            s["blobId"] = sha1_hex(path);
            s["lfs"] = {{"sha256", f.etag}, {"size", f.bytes.size()}, {"pointerSize", 134}};
        } else {
            s["blobId"] = f.etag;
        }
        siblings.push_back(s);
    }
    nlohmann::json j = {{"id", id},
                        {"modelId", id},
                        {"sha", r->commit},
                        {"private", false},
                        {"gated", r->gated ? nlohmann::json("manual") : nlohmann::json(false)},
                        {"siblings", siblings}};
    res.set_content(j.dump(), "application/json");
}

/// The tree listing huggingface_hub's snapshot_download reads (files only; folders are implied).
void model_tree(const std::string& id, const std::string& revision, httplib::Response& res) {
    const HubRepo* r = find_repo(id, revision, res);
    if (r == nullptr) return;
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [path, f] : r->files) {
        nlohmann::json e = {{"type", "file"},
                            {"path", path},
                            {"size", f.bytes.size()},
                            {"oid", f.lfs ? sha1_hex(path) : f.etag}};
        if (f.lfs) e["lfs"] = {{"oid", f.etag}, {"size", f.bytes.size()}, {"pointerSize", 134}};
        out.push_back(e);
    }
    res.set_content(out.dump(), "application/json");
}

}  // namespace

int hub_file_requests() { return g_file_requests.load(); }
int hub_range_requests() { return g_range_requests.load(); }

void register_hub(httplib::Server& server, MockContext& ctx) {
    const std::string p = kHubPrefix;
    server.Get(p + R"(/api/models/([^/]+/[^/]+)/revision/([^/]+))",
               [](const httplib::Request& req, httplib::Response& res) {
                   model_info(req.matches[1], req.matches[2], res);
               });
    server.Get(p + R"(/api/models/([^/]+/[^/]+)/tree/([^/]+))",
               [](const httplib::Request& req, httplib::Response& res) {
                   model_tree(req.matches[1], req.matches[2], res);
               });
    server.Get(p + R"(/api/models/([^/]+/[^/]+))",
               [](const httplib::Request& req, httplib::Response& res) {
                   model_info(req.matches[1], "main", res);
               });
    server.Get(p + R"(/([^/]+/[^/]+)/resolve/([^/]+)/(.+))", [&ctx](const httplib::Request& req,
                                                                    httplib::Response& res) {
        const HubRepo* r = find_repo(req.matches[1], req.matches[2], res);
        if (r == nullptr) return;
        if (r->gated) {
            std::string auth = req.get_header_value("Authorization");
            const std::string bearer = "Bearer ";
            if (auth.rfind(bearer, 0) != 0 || !ctx.key_ok(auth.substr(bearer.size()))) {
                hub_error(res, 401, "GatedRepo",
                          "Access to model " + std::string(req.matches[1]) +
                              " is restricted. You must have access to "
                              "it and be authenticated to access it. Please log in.");
                return;
            }
        }
        auto it = r->files.find(req.matches[3]);
        if (it == r->files.end()) {
            hub_error(res, 404, "EntryNotFound", "Entry not found");
            return;
        }
        const HubFile& f = it->second;
        res.set_header("X-Repo-Commit", r->commit);
        res.set_header("ETag", "\"" + f.etag + "\"");
        res.set_header("Accept-Ranges", "bytes");
        if (f.lfs) {
            res.set_header("X-Linked-Etag", "\"" + f.etag + "\"");
            res.set_header("X-Linked-Size", std::to_string(f.bytes.size()));
        }
        if (req.method == "HEAD") {
            res.set_header("Content-Length", std::to_string(f.bytes.size()));
            return;
        }
        ++g_file_requests;
        if (req.has_header("Range")) ++g_range_requests;
        if (f.lfs && ctx.take(nullptr, req, "hub-drop")) {
            // Half the body, then the connection closes: the client keeps a partial file to resume.
            const std::string* bytes = &f.bytes;
            res.set_content_provider(
                bytes->size(), "application/octet-stream",
                [bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                    size_t stop = bytes->size() / 2;
                    if (offset < stop)
                        sink.write(bytes->data() + offset, std::min(length, stop - offset));
                    return false;
                });
            return;
        }
        if (f.lfs && ctx.take(nullptr, req, "hub-corrupt")) {
            std::string bad = f.bytes;
            bad[bad.size() / 3] = static_cast<char>(bad[bad.size() / 3] ^ 0x5a);
            res.set_content(bad, "application/octet-stream");
            return;
        }
        res.set_content(f.bytes, "application/octet-stream");
    });
}

}  // namespace vmeval::mock
