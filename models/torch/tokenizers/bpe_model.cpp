#include "models/torch/tokenizers/bpe_model.hpp"

#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace {

using Json = nlohmann::json;

std::string string_or_empty(const Json& model, const char* key) {
    const auto it = model.find(key);
    return it == model.end() || it->is_null() ? std::string() : it->get<std::string>();
}

size_t utf8_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead >> 5) == 0x6) return 2;
    if ((lead >> 4) == 0xE) return 3;
    return 4;
}

}  // namespace

BpeModel BpeModel::from_json(const Json& model, const std::string& where) {
    const auto type = model.value("type", std::string("BPE"));
    if (type != "BPE") {
        throw Error(ErrorCode::Config, where + ": model type \"" + type +
                                           "\" is not supported; only BPE tokenizer.json files "
                                           "are (SentencePiece models go through "
                                           "SentencePieceTokenizer)");
    }
    if (!model.contains("vocab") || !model.contains("merges")) {
        throw Error(ErrorCode::Config, where + ": the BPE model has no \"vocab\" or \"merges\"");
    }
    if (!model.value("dropout", Json()).is_null()) {
        throw Error(ErrorCode::Config, where +
                                           ": BPE dropout is a training option; set "
                                           "\"dropout\" to null for inference");
    }
    BpeModel m;
    for (const auto& [token, id] : model.at("vocab").items()) m.vocab_[token] = id.get<int64_t>();
    m.prefix_ = string_or_empty(model, "continuing_subword_prefix");
    m.suffix_ = string_or_empty(model, "end_of_word_suffix");
    m.fuse_unk_ = model.value("fuse_unk", false);
    m.byte_fallback_ = model.value("byte_fallback", false);
    m.ignore_merges_ = model.value("ignore_merges", false);
    if (const auto unk = string_or_empty(model, "unk_token"); !unk.empty()) {
        const auto id = m.id_of(unk);
        if (!id)
            throw Error(ErrorCode::Config,
                        where + ": unk_token \"" + unk + "\" is not in the vocab");
        m.unk_ = *id;
    }

    const auto& merges = model.at("merges");
    if (merges.size() > std::numeric_limits<uint32_t>::max()) {
        throw Error(ErrorCode::Config, where + ": too many merges");
    }
    uint32_t rank = 0;
    for (const auto& merge : merges) {
        std::string a, b;
        if (merge.is_string()) {
            // The older form "a b": byte-level symbols never contain a plain space.
            const auto text = merge.get<std::string>();
            const auto space = text.find(' ');
            if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
                throw Error(ErrorCode::Config, where + ": merge \"" + text +
                                                   "\" is not two symbols separated by a space");
            }
            a = text.substr(0, space);
            b = text.substr(space + 1);
        } else if (merge.is_array() && merge.size() == 2) {
            a = merge[0].get<std::string>();
            b = merge[1].get<std::string>();
        } else {
            throw Error(ErrorCode::Config, where + ": merge " + merge.dump() +
                                               " is neither \"a b\" nor [\"a\", \"b\"]");
        }
        const auto ia = m.id_of(a), ib = m.id_of(b);
        const std::string joined =
            a + (m.prefix_.empty() || b.rfind(m.prefix_, 0) != 0 ? b : b.substr(m.prefix_.size()));
        const auto ij = m.id_of(joined);
        if (!ia || !ib || !ij) {
            throw Error(ErrorCode::Config, where + ": merge \"" + a + " " + b +
                                               "\" uses or makes a token missing from the vocab");
        }
        // The first listing of a pair wins, as in the tokenizers library.
        m.merges_.emplace(key(*ia, *ib), Merge{rank++, *ij});
    }
    return m;
}

std::optional<int64_t> BpeModel::id_of(const std::string& token) const {
    const auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

void BpeModel::tokenize(const std::string& word, std::vector<int64_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        if (const auto id = id_of(word)) {
            out.push_back(*id);
            return;
        }
    }

    // One symbol per character; characters outside the vocab become bytes or unk.
    std::vector<int64_t> symbols;
    std::optional<int64_t> pending_unk;
    auto flush_unk = [&] {
        if (pending_unk) symbols.push_back(*pending_unk);
        pending_unk.reset();
    };
    for (size_t i = 0; i < word.size();) {
        const size_t n =
            std::min(utf8_length(static_cast<unsigned char>(word[i])), word.size() - i);
        const std::string ch = word.substr(i, n);
        std::string symbol = (i > 0 ? prefix_ : std::string()) + ch;
        i += n;
        if (i == word.size()) symbol += suffix_;
        if (const auto id = id_of(symbol)) {
            flush_unk();
            symbols.push_back(*id);
            continue;
        }
        if (byte_fallback_) {
            std::vector<int64_t> bytes;
            for (const char c : ch) {
                char name[8];
                std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(c));
                const auto id = id_of(name);
                if (!id) break;
                bytes.push_back(*id);
            }
            if (bytes.size() == ch.size()) {
                flush_unk();
                symbols.insert(symbols.end(), bytes.begin(), bytes.end());
                continue;
            }
        }
        // Without an unk token the tokenizers library drops the character silently; byte-level
        // vocabularies never get here, their alphabet covers every byte.
        if (!unk_) continue;
        if (!(pending_unk && fuse_unk_)) flush_unk();
        pending_unk = unk_;
    }
    flush_unk();

    // Merge the lowest-ranked adjacent pair, leftmost first, until none is in the merge table.
    while (symbols.size() > 1) {
        size_t best = symbols.size();
        const Merge* best_merge = nullptr;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto it = merges_.find(key(symbols[i], symbols[i + 1]));
            if (it != merges_.end() && (!best_merge || it->second.rank < best_merge->rank)) {
                best = i;
                best_merge = &it->second;
            }
        }
        if (!best_merge) break;
        symbols[best] = best_merge->id;
        symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    out.insert(out.end(), symbols.begin(), symbols.end());
}

}  // namespace vmeval::tokenizers::detail
