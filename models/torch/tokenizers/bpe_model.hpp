#pragma once

// The "model" of a tokenizer.json when its type is BPE: vocab, merges (either the "a b" string
// form or the [a, b] list form), CLIP's end-of-word suffix, unk / byte fallback and Llama-3's
// ignore_merges.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vmeval::tokenizers::detail {

/// Byte-pair encoding of single pre-tokenized words.
class BpeModel {
public:
    /// Reads the "model" object; throws Error(Config) naming `where` when it is not a usable BPE.
    static BpeModel from_json(const nlohmann::json& model, const std::string& where);

    /// Appends the ids of `word` (one pre-tokenizer piece) to `out`.
    void tokenize(const std::string& word, std::vector<int64_t>& out) const;
    std::optional<int64_t> id_of(const std::string& token) const;
    size_t vocab_size() const { return vocab_.size(); }

private:
    struct Merge {
        uint32_t rank;
        int64_t id;
    };
    static uint64_t key(int64_t a, int64_t b) {
        return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
    }

    std::unordered_map<std::string, int64_t> vocab_;
    std::unordered_map<uint64_t, Merge> merges_;
    std::string prefix_;  ///< continuing_subword_prefix, put on every symbol but the first
    std::string suffix_;  ///< end_of_word_suffix (CLIP's "</w>"), put on the last symbol
    std::optional<int64_t> unk_;
    bool fuse_unk_ = false;
    bool byte_fallback_ = false;
    bool ignore_merges_ = false;
};

}  // namespace vmeval::tokenizers::detail
