#include "models/torch/tokenizers/bpe_tokenizer.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "models/torch/tokenizers/added_tokens.hpp"
#include "models/torch/tokenizers/bpe_model.hpp"
#include "models/torch/tokenizers/clip_vocab_files.hpp"
#include "models/torch/tokenizers/normalizer.hpp"
#include "models/torch/tokenizers/post_processor.hpp"
#include "models/torch/tokenizers/pre_tokenizer.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct BpeTokenizer::Impl {
    detail::AddedTokenMatcher raw_tokens;         ///< matched in the prompt as written
    detail::AddedTokenMatcher normalized_tokens;  ///< matched after normalization
    std::unordered_map<std::string, int64_t> added;
    std::unique_ptr<detail::Normalizer> normalizer;
    std::unique_ptr<detail::PreTokenizer> pre_tokenizer;
    detail::BpeModel model;
    detail::SpecialIds specials;
    std::optional<int64_t> pad_id;

    void encode_text(const std::string& text, std::vector<int64_t>& out) const {
        std::vector<std::string> pieces{text};
        if (pre_tokenizer) pre_tokenizer->apply(pieces);
        for (const auto& piece : pieces) model.tokenize(piece, out);
    }
};

BpeOptions BpeOptions::clip(int max_length) { return padded(max_length); }

BpeOptions BpeOptions::padded(int max_length) {
    BpeOptions o;
    o.max_length = max_length;
    o.pad_to_max = true;
    return o;
}

namespace {

Json read_json(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::Config,
                    "cannot open " + file.string() + "; check the model folder or re-download it");
    }
    try {
        return Json::parse(in);
    } catch (const Json::exception& e) {
        throw Error(ErrorCode::Config, file.string() + " is not valid JSON (" + e.what() +
                                           "); the file is damaged: re-download it");
    }
}

/// A special token entry of tokenizer_config.json: "text" or {"content": "text", ...}.
std::optional<std::string> token_text(const Json& config, const char* key) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content")) return it->at("content").get<std::string>();
    return std::nullopt;
}

std::optional<int64_t> configured_pad(const fs::path& folder, const Json& spec,
                                      const BpeTokenizer& tokenizer) {
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
        const fs::path file = folder / name;
        if (!fs::exists(file)) continue;
        if (const auto pad = token_text(read_json(file), "pad_token")) {
            const auto id = tokenizer.token_to_id(*pad);
            if (!id) {
                throw Error(ErrorCode::Config, file.string() + ": pad_token \"" + *pad +
                                                   "\" is not in the tokenizer's vocabulary");
            }
            return id;
        }
    }
    const auto padding = spec.find("padding");
    if (padding != spec.end() && padding->is_object() && padding->contains("pad_id")) {
        return padding->at("pad_id").get<int64_t>();
    }
    return std::nullopt;
}

}  // namespace

BpeTokenizer::BpeTokenizer(std::unique_ptr<Impl> impl, fs::path file)
    : impl_(std::move(impl)), file_(std::move(file)) {}
BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;
BpeTokenizer::~BpeTokenizer() = default;

BpeTokenizer BpeTokenizer::load(const fs::path& path) {
    fs::path file = fs::is_directory(path) ? path / "tokenizer.json" : path;
    Json spec;
    if (fs::is_regular_file(file)) {
        spec = read_json(file);
    } else if (fs::is_directory(path) && fs::exists(path / "vocab.json") &&
               fs::exists(path / "merges.txt")) {
        const fs::path config_file = path / "tokenizer_config.json";
        const Json config = fs::exists(config_file) ? read_json(config_file) : Json::object();
        const auto cls = config.value("tokenizer_class", std::string());
        if (cls.rfind("CLIPTokenizer", 0) != 0) {
            throw Error(
                ErrorCode::Config,
                path.string() +
                    " has vocab.json and merges.txt but no tokenizer.json, "
                    "and its tokenizer_config.json names \"" +
                    cls +
                    "\" rather than "
                    "CLIPTokenizer: only CLIP's pipeline is known without a tokenizer.json");
        }
        spec = detail::clip_tokenizer_json(path, config);
        file = path / "vocab.json";
    } else {
        throw Error(ErrorCode::Config, "tokenizer file " + file.string() +
                                           " does not exist; check the model folder or "
                                           "re-download it");
    }
    const std::string where = file.string();
    if (!spec.is_object() || !spec.contains("model")) {
        throw Error(ErrorCode::Config, where +
                                           " has no \"model\": it is not a Hugging Face "
                                           "tokenizer.json");
    }
    auto impl = std::make_unique<Impl>();
    try {
        impl->model = detail::BpeModel::from_json(spec.at("model"), where);
        impl->normalizer = detail::make_normalizer(spec.value("normalizer", Json()), where);
        impl->pre_tokenizer =
            detail::make_pre_tokenizer(spec.value("pre_tokenizer", Json()), where);
        impl->specials = detail::special_ids_of(spec.value("post_processor", Json()), where);

        std::vector<detail::AddedToken> raw, normalized;
        for (const auto& entry : spec.value("added_tokens", Json::array())) {
            detail::AddedToken t;
            t.content = entry.at("content").get<std::string>();
            t.id = entry.at("id").get<int64_t>();
            t.lstrip = entry.value("lstrip", false);
            t.rstrip = entry.value("rstrip", false);
            t.single_word = entry.value("single_word", false);
            t.normalized = entry.value("normalized", false);
            impl->added[t.content] = t.id;
            if (t.normalized && impl->normalizer) {
                // Normalized tokens are looked for in normalized text, so in normalized form.
                t.content = impl->normalizer->apply(t.content);
                normalized.push_back(std::move(t));
            } else {
                raw.push_back(std::move(t));
            }
        }
        impl->raw_tokens = detail::AddedTokenMatcher(std::move(raw));
        impl->normalized_tokens = detail::AddedTokenMatcher(std::move(normalized));
    } catch (const Json::exception& e) {
        throw Error(ErrorCode::Config,
                    where + " is not a tokenizer.json this version reads (" + e.what() + ")");
    }
    BpeTokenizer tokenizer(std::move(impl), file);
    tokenizer.impl_->pad_id = configured_pad(file.parent_path(), spec, tokenizer);
    return tokenizer;
}

std::vector<int64_t> BpeTokenizer::tokenize(const std::string& text) const {
    std::vector<int64_t> ids;
    for (const auto& raw : impl_->raw_tokens.split(text)) {
        if (raw.id) {
            ids.push_back(*raw.id);
            continue;
        }
        const std::string normal =
            impl_->normalizer ? impl_->normalizer->apply(raw.text) : raw.text;
        for (const auto& part : impl_->normalized_tokens.split(normal)) {
            if (part.id) {
                ids.push_back(*part.id);
            } else {
                impl_->encode_text(part.text, ids);
            }
        }
    }
    return ids;
}

Encoded BpeTokenizer::encode(const std::string& text, const BpeOptions& options) const {
    Fit fit;
    fit.max_length = options.max_length;
    fit.truncate = options.truncate;
    fit.pad_to_max = options.pad_to_max;
    fit.side = options.padding_side;
    if (options.pad_to_max && options.max_length > 0) {
        const auto pad = options.pad_id ? options.pad_id : impl_->pad_id;
        if (!pad) {
            throw Error(ErrorCode::Config, file_.string() +
                                               " names no pad token (tokenizer_config."
                                               "json pad_token) and the options set "
                                               "none: set BpeOptions::pad_id");
        }
        fit.pad_id = *pad;
    }
    static const std::vector<int64_t> kNone;
    const bool specials = options.add_special_tokens;
    return assemble(tokenize(text), specials ? impl_->specials.prefix : kNone,
                    specials ? impl_->specials.suffix : kNone, fit);
}

std::optional<int64_t> BpeTokenizer::token_to_id(const std::string& token) const {
    const auto it = impl_->added.find(token);
    if (it != impl_->added.end()) return it->second;
    return impl_->model.id_of(token);
}

std::optional<int64_t> BpeTokenizer::pad_id() const { return impl_->pad_id; }

}  // namespace vmeval::tokenizers
