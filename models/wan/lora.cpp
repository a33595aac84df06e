#include "models/wan/lora.hpp"

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/wan/transformer.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::wan {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> parts;
    std::string::size_type start = 0;
    while (true) {
        auto dot = s.find('.', start);
        parts.push_back(s.substr(start, dot - start));
        if (dot == std::string::npos) return parts;
        start = dot + 1;
    }
}

/// The diffusers module of an original Wan module name, or "" when it has none.
std::string diffusers_name(const std::string& module) {
    const auto p = split(module);
    if (p.size() < 3 || p[0] != "blocks") return "";
    const std::string block = "blocks." + p[1] + ".";
    if (p.size() == 4 && (p[2] == "self_attn" || p[2] == "cross_attn")) {
        static const std::map<std::string, std::string> proj = {
            {"q", "to_q"},        {"k", "to_k"},        {"v", "to_v"},
            {"o", "to_out.0"},    {"k_img", "add_k_proj"}, {"v_img", "add_v_proj"}};
        auto it = proj.find(p[3]);
        if (it == proj.end()) return "";
        return block + (p[2] == "self_attn" ? "attn1." : "attn2.") + it->second;
    }
    if (p.size() == 4 && p[2] == "ffn") {
        if (p[3] == "0") return block + "ffn.net.0.proj";
        if (p[3] == "2") return block + "ffn.net.2";
    }
    return "";
}

struct Pair {
    std::string down;  ///< key of A [rank, in]
    std::string up;    ///< key of B [out, rank]
    std::string alpha;
};

}  // namespace

LoraMerge merge_lora(Transformer& model, const std::filesystem::path& file, double alpha) {
    auto reader = nn::CheckpointReader::open_file(file);
    std::map<std::string, at::Tensor*> weights;
    for (const auto& e : model.named_tensors())
        if (e.tensor->defined()) weights[e.name] = e.tensor;

    std::map<std::string, Pair> pairs;  // by diffusers weight name
    std::vector<std::string> unplaced;
    for (const auto& key : reader.names()) {
        std::string k = key;
        if (k.rfind("diffusion_model.", 0) == 0) k = k.substr(16);
        std::string module, role;
        for (const auto& [tail, r] : std::vector<std::pair<std::string, std::string>>{
                 {".lora_A.weight", "down"},
                 {".lora_down.weight", "down"},
                 {".lora_B.weight", "up"},
                 {".lora_up.weight", "up"},
                 {".alpha", "alpha"}}) {
            if (ends_with(k, tail)) {
                module = k.substr(0, k.size() - tail.size());
                role = r;
                break;
            }
        }
        std::string target;
        if (!module.empty()) {
            target = weights.count(module + ".weight") ? module + ".weight" : "";
            if (target.empty()) {
                auto name = diffusers_name(module);
                if (!name.empty() && weights.count(name + ".weight")) target = name + ".weight";
            }
        }
        if (target.empty()) {
            unplaced.push_back(key);
            continue;
        }
        auto& pair = pairs[target];
        (role == "down" ? pair.down : role == "up" ? pair.up : pair.alpha) = key;
    }
    for (const auto& [target, pair] : pairs)
        if (pair.down.empty() || pair.up.empty())
            unplaced.push_back(target + " (only one of lora_A/lora_B)");
    if (!unplaced.empty()) {
        std::string list;
        for (std::size_t i = 0; i < unplaced.size() && i < 8; ++i)
            list += (i ? ", " : "") + unplaced[i];
        if (unplaced.size() > 8) list += ", ... (" + std::to_string(unplaced.size()) + " in all)";
        throw Error(ErrorCode::Config,
                    file.string() + ": " + std::to_string(unplaced.size()) +
                        " LoRA key(s) match no weight of this Wan transformer: " + list +
                        ". Is this LoRA for another model (Wan 2.2 A14B expects "
                        "blocks.N.{self_attn,cross_attn}.{q,k,v,o}.lora_{A,B}.weight)?");
    }
    if (pairs.empty())
        throw Error(ErrorCode::Config, file.string() + ": no LoRA weights (lora_A/lora_B) in it");

    // Every product first, then every write: a bad shape leaves the model as it was.
    LoraMerge merge;
    std::vector<std::pair<at::Tensor*, at::Tensor>> updates;
    for (const auto& [target, pair] : pairs) {
        at::Tensor& w = *weights.at(target);
        auto a = reader.read(pair.down, w.device(), at::kFloat);
        auto b = reader.read(pair.up, w.device(), at::kFloat);
        if (a.dim() != 2 || b.dim() != 2 || a.size(0) != b.size(1) || b.size(0) != w.size(0) ||
            a.size(1) != w.size(1))
            throw Error(ErrorCode::Config,
                        file.string() + ": " + pair.down + " " + std::to_string(a.size(0)) + "x" +
                            std::to_string(a.size(1)) + " and " + pair.up + " do not fit " +
                            target + " (" + std::to_string(w.size(0)) + "x" +
                            std::to_string(w.size(1)) + ")");
        const int64_t rank = a.size(0);
        const double a_value =
            pair.alpha.empty() ? alpha : reader.read(pair.alpha, at::kCPU, at::kDouble).item<double>();
        merge.rank = rank;
        merge.scale = a_value / static_cast<double>(rank);
        updates.emplace_back(&w, (w.to(at::kFloat) + at::matmul(b, a) * merge.scale).to(w.scalar_type()));
    }
    for (auto& [slot, value] : updates) *slot = value;
    merge.modules = static_cast<int>(updates.size());
    return merge;
}

}  // namespace vmeval::wan
