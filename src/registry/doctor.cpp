#include "vmeval/registry/doctor.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/weights/hub_cache.hpp"
#include "local_backend.hpp"

namespace vmeval::doctor {

namespace {

std::string fmt_gib(double gib) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", gib);
    return buf;
}

/// Every "org/name" word of a catalog weights field ("a/b (LoRA) on c/d" names two repositories).
std::vector<std::string> repos_of(const std::string& weights) {
    std::vector<std::string> repos;
    std::istringstream words(weights);
    std::string w;
    while (words >> w) {
        auto slash = w.find('/');
        if (slash != std::string::npos && slash > 0 && slash + 1 < w.size() && w.find('/', slash + 1) == std::string::npos &&
            w.find('(') == std::string::npos) {
            repos.push_back(w);
        }
    }
    return repos;
}

bool diffusers_format(const std::string& weights) { return weights.find("not diffusers") == std::string::npos; }

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

}  // namespace

const char* to_string(Status s) {
    switch (s) {
        case Status::Ok: return "ok";
        case Status::Missing: return "missing";
        case Status::Warn: return "warn";
    }
    return "?";
}

std::vector<Gpu> detect_gpus(std::string* why_none) {
    std::vector<Gpu> gpus;
    auto say = [&](const std::string& why) {
        if (why_none) *why_none = why;
    };
    FILE* p = ::popen("nvidia-smi --query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits 2>/dev/null",
                      "r");
    if (p == nullptr) {
        say("cannot run nvidia-smi");
        return gpus;
    }
    std::string text;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) text += buf;
    int status = ::pclose(p);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        say(WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "nvidia-smi not found: no NVIDIA driver"
                                                             : "nvidia-smi failed: is the NVIDIA driver loaded?");
        return gpus;
    }
    std::set<int> visible;
    std::string cvd = env_or_empty("CUDA_VISIBLE_DEVICES");
    bool limited = std::getenv("CUDA_VISIBLE_DEVICES") != nullptr;
    if (limited) {
        std::stringstream s(cvd);
        std::string item;
        while (std::getline(s, item, ',')) {
            if (!item.empty() && item.find_first_not_of("0123456789") == std::string::npos) visible.insert(std::stoi(item));
        }
    }
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> f;
        std::stringstream s(line);
        std::string item;
        while (std::getline(s, item, ',')) {
            auto a = item.find_first_not_of(' ');
            auto b = item.find_last_not_of(" \r");
            f.push_back(a == std::string::npos ? "" : item.substr(a, b - a + 1));
        }
        if (f.size() != 4) continue;
        try {
            Gpu g{std::stoi(f[0]), f[1], std::stod(f[2]) / 1024.0, std::stod(f[3]) / 1024.0};
            if (!limited || visible.count(g.index)) gpus.push_back(g);
        } catch (const std::exception&) {
        }
    }
    if (gpus.empty()) say(limited ? "no GPU left after CUDA_VISIBLE_DEVICES=" + cvd : "nvidia-smi lists no GPU");
    return gpus;
}

std::optional<MemoryNeed> gpu_memory_need(const registry::ModelInfo& m) {
    if (m.kind != registry::Kind::Local) return std::nullopt;
    const std::string n = m.name;
    // Published peaks where a model's authors give one; otherwise bf16 weights plus working room.
    if (n == "svd") return MemoryNeed{10, "4.5 GB of bf16 weights plus chunked decoding"};
    if (n == "ltx-video") return MemoryNeed{12, "2B DiT and T5-XXL in bf16 (about 11 GB of weights)"};
    if (n == "ltx-video-13b-distilled") return MemoryNeed{40, "26 GB DiT + 9.5 GB T5 in bf16"};
    if (n == "LTX-2") return MemoryNeed{80, "about 65 GB of bf16 weights, staged"};
    if (n == "hunyuan-video-i2v") return MemoryNeed{60, "HunyuanVideo-I2V README: 60 GB peak at 720p"};
    if (n == "wan-2.1-i2v-480p") return MemoryNeed{48, "Wan2.1 14B: 33 GB bf16 DiT plus encoders, offloaded"};
    if (n == "wan-2.1-i2v-720p") return MemoryNeed{77, "Wan2.1 README: 76.7 GB peak at 720p with offloading"};
    if (n == "wan-2.2-i2v-a14b" || n == "morphic-frames-to-video")
        return MemoryNeed{60, "Wan2.2 README: 59.7 GB peak at 720p with offloading"};
    if (n == "wan-2.2-ti2v-5b") return MemoryNeed{23, "Wan2.2 README: 22.8 GB peak at 720p with offloading"};
    if (n == "cogvideox-5b-i2v") return MemoryNeed{26, "CogVideoX README: 26 GB without offloading"};
    if (n == "cogvideox1.5-5b-i2v") return MemoryNeed{76, "CogVideoX README: 76 GB without offloading"};
    if (n == "sana-video-2b-480p" || n == "sana") return MemoryNeed{16, "about 9.5 GB of bf16 weights with Gemma-2"};
    if (n == "dynamicrafter-1024") return MemoryNeed{19, "DynamiCrafter README: 18.3 GB"};
    if (n == "dynamicrafter-512" || n == "videocrafter2-512") return MemoryNeed{13, "DynamiCrafter README: 12.8 GB"};
    if (n == "dynamicrafter-256") return MemoryNeed{12, "DynamiCrafter README: 11.9 GB"};
    return MemoryNeed{24, "no published figure; a guess"};
}

ModelReport check_model(const registry::ModelInfo& m, const std::vector<Gpu>& gpus, const std::string& gpu_problem) {
    ModelReport r;
    r.model = &m;
    auto add = [&](std::string what, Status s, std::string found, std::string fix = "") {
        r.checks.push_back({std::move(what), s, std::move(found), std::move(fix)});
    };

    // Keys: names only, never values.
    for (const auto& var : split_words(m.env_vars)) {
        if (env_or_empty(var.c_str()).empty()) {
            add(var, Status::Missing, "not set",
                "export " + var + "=... or add it to .env (see env.template)");
        } else {
            add(var, Status::Ok, "set");
        }
    }

    // What `vmeval generate` does before a batch: build the model's client with default parameters.
    auto availability = registry::check_availability(m);
    if (!availability.built) {
        std::string fix = "none in this version (see `vmeval models` notes)";
        if (m.kind == registry::Kind::Local) {
            fix = registry::backend_module_path().empty()
                      ? "build vmeval with LibTorch (setup/install_torch.sh, then setup/build.sh) so that "
                        "libvmeval_torch_backend.so sits next to the vmeval executable"
                      : "none in this version: the LibTorch runtime is built but this family's pipeline is not "
                        "yet; use the API models or the baselines meanwhile";
        }
        for (const auto& why : availability.missing) {
            if (why.rfind("set ", 0) == 0) continue;  // reported per variable above
            add("backend", Status::Missing, why, fix);
        }
    } else if (m.kind == registry::Kind::Local) {
        // Building a local model loads gigabytes of weights; the backend checks the files instead.
        add("backend", Status::Ok, "built (LibTorch backend module)");
        try {
            auto problem = registry::open_backend().weights_problem(m, Params{});
            if (!problem.empty()) {
                auto colon = problem.find(": ");
                add("weight files", Status::Missing, colon == std::string::npos ? problem : problem.substr(colon + 2),
                    "vmeval pull " + std::string(m.name) + " (or pass --param weights=DIR to generate)");
            }
        } catch (const Error& e) {
            add("backend", Status::Missing, e.what(), "rebuild with setup/build.sh");
        }
    } else if (availability.missing.empty()) {
        try {
            (void)registry::create_model(m, Params{});
            add("client", Status::Ok, m.kind == registry::Kind::Api ? "configured" : "built");
        } catch (const Error& e) {
            std::string msg = e.what();
            auto colon = msg.find(": ");
            add("client", Status::Missing, "cannot start", colon == std::string::npos ? msg : msg.substr(colon + 2));
        }
    }

    if (m.kind == registry::Kind::Local) {
        const std::string weights = m.weights;
        if (!diffusers_format(weights)) {
            add("weights", Status::Missing, weights,
                "not in diffusers format, so `vmeval pull` cannot fetch it; download model.ckpt from the "
                "Hugging Face repository named here by hand");
        } else {
            for (const auto& repo : repos_of(weights)) {
                auto snap = weights::find_snapshot(repo);
                if (snap) {
                    add("weights " + repo, Status::Ok, snap->string());
                } else {
                    add("weights " + repo, Status::Missing,
                        "not in the Hugging Face cache (" + weights::hub_cache_dir().string() + ")",
                        "vmeval pull " + std::string(m.name) + " (or set HF_HOME to where your Python tools keep it)");
                }
            }
        }
        auto need = gpu_memory_need(m);
        if (gpus.empty()) {
            add("GPU", Status::Warn, "none: " + gpu_problem,
                "run on a machine with an NVIDIA GPU of " + fmt_gib(need->gib) +
                    " or more; on the CPU it runs in fp32 and takes hours per video");
        } else {
            const Gpu* best = &gpus[0];
            for (const auto& g : gpus) {
                if (g.total_gib > best->total_gib) best = &g;
            }
            std::string found = "GPU " + std::to_string(best->index) + " " + best->name + ", " + fmt_gib(best->total_gib) +
                                " (" + fmt_gib(best->free_gib) + " free); needs about " + fmt_gib(need->gib) + ": " +
                                need->source;
            if (best->total_gib + 0.5 < need->gib) {
                add("GPU memory", Status::Warn, found,
                    "use a GPU with more memory, or lower --param width/height/frames");
            } else {
                add("GPU memory", Status::Ok, found);
            }
        }
    }
    r.ready = true;
    for (const auto& c : r.checks) r.ready = r.ready && c.status != Status::Missing;
    return r;
}

LocalRuntime probe_local_runtime() {
    LocalRuntime r;
    r.module = registry::backend_module_path().string();
    try {
        r.description = registry::open_backend().describe();
        r.loaded = true;
    } catch (const Error& e) {
        r.problem = e.what();
    }
    return r;
}

}  // namespace vmeval::doctor
