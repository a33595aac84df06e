#include "vmeval/weights/checkpoint.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/weights/safetensors.hpp"

namespace vmeval::weights {

namespace {

using json = nlohmann::json;

constexpr std::string_view kExt = ".safetensors";
constexpr std::string_view kIndexExt = ".safetensors.index.json";

[[noreturn]] void bad_index(const fs::path& index_file, const std::string& what) {
    throw Error(ErrorCode::Config,
                index_file.string() + ": not a valid safetensors index: " + what);
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// A shard must sit next to its index: a name with a folder or ".." could make a downloaded index
/// read any file on the machine.
bool plain_file_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

/// Shards of a sharded checkpoint ("model-00001-of-00003.safetensors") are never a checkpoint
/// alone.
bool is_shard_name(std::string_view stem) {
    auto of = stem.rfind("-of-");
    return of != std::string_view::npos && stem.find('-') < of;
}

struct Candidate {
    std::string stem;
    fs::path path;
    bool index = false;
};

int stem_rank(const std::string& stem) {
    if (stem == "diffusion_pytorch_model") return 0;
    if (stem == "model") return 1;
    return 2;
}

/// The stem when `name` is a checkpoint file of `variant` (or plain, when variant is empty).
std::optional<Candidate> classify(const std::string& name, const std::string& variant) {
    const std::string v = variant.empty() ? "" : "." + variant;
    auto plain_stem = [](std::string_view s) { return s.find('.') == std::string_view::npos; };
    auto make = [&](std::string_view stem, bool index) -> std::optional<Candidate> {
        if (stem.empty() || !plain_stem(stem) || (!index && is_shard_name(stem)))
            return std::nullopt;
        return Candidate{std::string(stem), fs::path(), index};
    };
    if (ends_with(name, v + std::string(kIndexExt))) {
        return make(std::string_view(name).substr(0, name.size() - v.size() - kIndexExt.size()),
                    true);
    }
    // diffusers writes variant indexes as "<stem>.safetensors.index.<variant>.json"
    const std::string diffusers_index = ".safetensors.index" + v + ".json";
    if (!variant.empty() && ends_with(name, diffusers_index)) {
        return make(std::string_view(name).substr(0, name.size() - diffusers_index.size()), true);
    }
    if (ends_with(name, v + std::string(kExt))) {
        return make(std::string_view(name).substr(0, name.size() - v.size() - kExt.size()), false);
    }
    return std::nullopt;
}

std::string listing(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    if (names.empty()) return "it is empty";
    std::string out = "it holds ";
    for (std::size_t i = 0; i < names.size() && i < 12; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > 12) out += ", ... (" + std::to_string(names.size()) + " entries)";
    return out;
}

}  // namespace

CheckpointIndex parse_index(std::string_view text, const fs::path& index_file) {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) bad_index(index_file, "it is not a JSON object");
    CheckpointIndex idx;
    idx.index_file = index_file;

    auto meta = j.find("metadata");
    if (meta != j.end() && !meta->is_null()) {
        if (!meta->is_object()) bad_index(index_file, "\"metadata\" must be an object");
        auto total = meta->find("total_size");
        if (total != meta->end()) {
            // Some writers store total_size as a float; accept whole, non-negative values only.
            if (total->is_number_unsigned()) {
                idx.total_size = total->get<std::uint64_t>();
            } else if (!total->is_null()) {
                bad_index(index_file, "\"metadata.total_size\" must be a non-negative integer");
            }
        }
    }

    auto map = j.find("weight_map");
    if (map == j.end() || !map->is_object())
        bad_index(index_file, "it has no \"weight_map\" object");
    if (map->empty()) bad_index(index_file, "\"weight_map\" lists no tensors");
    const fs::path dir = index_file.parent_path();
    std::set<fs::path> shards;
    for (const auto& [name, file] : map->items()) {
        if (!file.is_string())
            bad_index(index_file, "the shard of tensor '" + name + "' must be a file name");
        const std::string& f = file.get_ref<const std::string&>();
        if (!plain_file_name(f)) {
            bad_index(index_file, "tensor '" + name + "' points to '" + f +
                                      "', which is not a file name next to the index");
        }
        fs::path p = dir / f;
        idx.weight_map.emplace(name, p);
        shards.insert(p);
    }
    idx.shards.assign(shards.begin(), shards.end());
    return idx;
}

CheckpointIndex load_index(const fs::path& index_file) {
    CheckpointIndex idx = parse_index(fs_util::read_file(index_file), index_file);
    std::map<fs::path, Header> headers;
    for (const fs::path& shard : idx.shards) {
        std::error_code ec;
        if (!fs::is_regular_file(shard, ec)) {
            bad_index(index_file, "shard " + shard.filename().string() +
                                      " is missing (download the whole checkpoint again)");
        }
        headers.emplace(shard, read_header(shard));
    }
    for (const auto& [name, shard] : idx.weight_map) {
        if (headers.at(shard).find(name) == nullptr) {
            bad_index(index_file, "shard " + shard.filename().string() + " has no tensor '" + name +
                                      "' although the index says it does");
        }
    }
    return idx;
}

WeightFiles select_weights(const fs::path& component_dir, const std::string& variant) {
    std::error_code ec;
    if (!fs::is_directory(component_dir, ec)) {
        throw Error(
            ErrorCode::Config,
            component_dir.string() + ": weights folder not found (run setup/install_model.sh)");
    }
    std::vector<Candidate> found;
    for (const auto& e : fs::directory_iterator(component_dir, ec)) {
        if (!e.is_regular_file(ec)) continue;
        auto c = classify(e.path().filename().string(), variant);
        if (!c) continue;
        c->path = e.path();
        found.push_back(*c);
    }
    const std::string what =
        variant.empty() ? "safetensors weights" : "'" + variant + "' safetensors weights";
    if (found.empty()) {
        throw Error(ErrorCode::Config,
                    component_dir.string() + ": no " + what + "; " + listing(component_dir) +
                        (variant.empty() ? "" : " (drop the variant to load the plain files)"));
    }
    // Best first: the favoured stem, then an index before a single file, then by name.
    std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
        if (stem_rank(a.stem) != stem_rank(b.stem)) return stem_rank(a.stem) < stem_rank(b.stem);
        if (a.index != b.index) return a.index;
        return a.path < b.path;
    });
    const Candidate& best = found.front();
    for (const Candidate& other : found) {
        if (other.stem != best.stem && stem_rank(other.stem) == stem_rank(best.stem)) {
            throw Error(ErrorCode::Config, component_dir.string() + ": both " +
                                               best.path.filename().string() + " and " +
                                               other.path.filename().string() + " could be the " +
                                               what + "; remove the one not meant");
        }
    }
    WeightFiles out;
    if (best.index) {
        out.index = best.path;
        out.files = load_index(best.path).shards;
    } else {
        out.files.push_back(best.path);
    }
    return out;
}

}  // namespace vmeval::weights
