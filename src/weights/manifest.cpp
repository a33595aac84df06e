#include "vmeval/weights/manifest.hpp"

#include <fnmatch.h>

#include <cctype>
#include <map>
#include <set>

#include "vmeval/core/error.hpp"

namespace vmeval::weights {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string folder_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool is_weight_file(const std::string& path) {
    return ends_with(path, ".safetensors") || path.find(".safetensors.index") != std::string::npos;
}

/// A variant tag is one dot-separated word such as fp16 or bf16; shard counters contain '-'.
bool plausible_variant(const std::string& word) {
    if (word.empty() || word == "index") return false;
    for (char c : word) {
        if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

RepoSpec diffusers_repo(const std::string& repo, const std::string& variant = "") {
    return RepoSpec{repo, "main", diffusers_allow(), variant};
}

std::string lvdm_manual(const std::string& repo, const std::string& folder,
                        const std::string& size) {
    return "its weights are an original lvdm checkpoint (model.ckpt, " + size +
           "), not a diffusers folder, so `vmeval pull` does not fetch them. Download "
           "https://huggingface.co/" +
           repo + "/resolve/main/model.ckpt to weights/" + folder +
           "/model.ckpt (e.g. `curl -L -C - -o weights/" + folder +
           "/model.ckpt <that URL>`) or run "
           "`hf download " +
           repo + " model.ckpt --local-dir weights/" + folder + "`.";
}

}  // namespace

std::vector<std::string> diffusers_allow() {
    return {"model_index.json", "*/*.json", "*/*.txt", "*/*.model", "*/*.safetensors"};
}

bool glob_match(const std::string& pattern, const std::string& path) {
    return ::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

std::string weight_variant(const std::string& path) {
    std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    std::string stem;
    if (ends_with(name, ".safetensors")) {
        stem = name.substr(0, name.size() - std::string(".safetensors").size());
    } else if (name.find(".safetensors.index") != std::string::npos && ends_with(name, ".json")) {
        stem = name.substr(0, name.size() - std::string(".json").size());
    } else {
        return "";
    }
    auto dot = stem.rfind('.');
    if (dot == std::string::npos) return "";
    std::string word = stem.substr(dot + 1);
    return plausible_variant(word) ? word : "";
}

std::vector<RemoteFile> select_files(const RepoSpec& spec, const std::vector<RemoteFile>& listing) {
    std::vector<const RemoteFile*> allowed;
    std::set<std::string> folders_with_variant;
    for (const auto& f : listing) {
        bool ok = false;
        for (const auto& g : spec.allow) ok = ok || glob_match(g, f.path);
        if (!ok) continue;
        allowed.push_back(&f);
        if (!spec.variant.empty() && is_weight_file(f.path) &&
            weight_variant(f.path) == spec.variant) {
            folders_with_variant.insert(folder_of(f.path));
        }
    }
    std::vector<RemoteFile> out;
    for (const RemoteFile* f : allowed) {
        if (is_weight_file(f->path)) {
            // Each folder is loaded in one variant, as diffusers' from_pretrained(variant=...)
            // does.
            std::string want = folders_with_variant.count(folder_of(f->path)) ? spec.variant : "";
            if (weight_variant(f->path) != want) continue;
        }
        out.push_back(*f);
    }
    return out;
}

ModelManifest manifest_for_repo(const std::string& repo_id, const std::string& revision) {
    ModelManifest m;
    m.model = repo_id;
    m.repos.push_back(diffusers_repo(repo_id));
    m.repos.back().revision = revision;
    return m;
}

ModelManifest manifest_for(const registry::ModelInfo& model) {
    if (model.kind != registry::Kind::Local) {
        throw Error(ErrorCode::Usage, std::string(model.name) + " is an " +
                                          registry::to_string(model.kind) +
                                          " model and has no weights to pull; only local models do "
                                          "(see `vmeval models`)");
    }
    ModelManifest m;
    m.model = model.name;
    const std::string name = model.name;
    const std::string repo = model.provider_model_id;
    using registry::Backend;
    switch (model.backend) {
        case Backend::Svd:
            // fp16 is the variant the pipeline runs in; the root svd_xt*.safetensors are the same
            // weights in Stability's single-file format and are skipped by the allow-list.
            m.repos.push_back(diffusers_repo(repo, "fp16"));
            break;
        case Backend::LtxVideo:
            m.repos.push_back(diffusers_repo(repo));
            if (name == "ltx-video-13b-distilled") {
                // The multi-scale recipe's latent upsampler is published separately, as its own
                // model.
                m.repos.push_back(
                    RepoSpec{"a-r-r-o-w/LTX-0.9.8-Latent-Upsampler",
                             "main",
                             {"*.json", "*.safetensors", "*/*.json", "*/*.safetensors"},
                             ""});
            }
            break;
        case Backend::Morphic:
            m.repos.push_back(
                RepoSpec{repo, "main", {"lora_interpolation_high_noise_final.safetensors"}, ""});
            m.repos.push_back(diffusers_repo("Wan-AI/Wan2.2-I2V-A14B-Diffusers"));
            break;
        case Backend::VideoCrafter:
            m.manual = lvdm_manual("VideoCrafter/Image2Video-512", "videocrafter/i2v_512_v1",
                                   "about 5 GB");
            break;
        case Backend::DynamiCrafter: {
            std::string size = name == "dynamicrafter-256"   ? "3.5 GB"
                               : name == "dynamicrafter-512" ? "5.2 GB"
                                                             : "9.7 GB";
            std::string res = name.substr(name.rfind('-') + 1);
            m.manual = lvdm_manual(repo, "dynamicrafter/dynamicrafter_" + res + "_v1", size);
            break;
        }
        default:
            m.repos.push_back(diffusers_repo(repo));
            break;
    }
    return m;
}

}  // namespace vmeval::weights
