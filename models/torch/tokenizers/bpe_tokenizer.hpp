#pragma once

// Byte-level BPE tokenizers read from a Hugging Face tokenizer.json (Llama-3, CLIP, GPT-2
// style): added tokens, normalizer, pre-tokenizer, BPE model and the post-processor's special
// tokens, with transformers' truncation and padding. The pad token comes from the
// tokenizer_config.json / special_tokens_map.json beside it, as transformers reads it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/tokenizers/encoding.hpp"

namespace vmeval::tokenizers {

/// Special tokens and fitting for one encode call.
struct BpeOptions {
    int max_length = 0;              ///< 0: no limit and no padding
    bool pad_to_max = false;         ///< pad up to max_length
    bool truncate = true;            ///< cut content so content + specials fit max_length
    bool add_special_tokens = true;  ///< the post-processor's bos/eos (CLIP's start/end tokens)
    PaddingSide padding_side = PaddingSide::Right;
    std::optional<int64_t> pad_id;  ///< overrides the tokenizer's pad token

    /// CLIP text encoders: start + text + end, padded with the pad token to 77.
    static BpeOptions clip(int max_length = 77);
    /// Padded to max_length on the right with the tokenizer's pad token (Llama-3 in Hunyuan).
    static BpeOptions padded(int max_length);
};

/// A loaded tokenizer.json; immutable after load and safe to share between threads.
class BpeTokenizer {
public:
    /// Loads `path`: a tokenizer.json, or a folder holding one. Throws Error(Config) naming the
    /// file when it is missing, not JSON, or uses a component this implementation lacks.
    static BpeTokenizer load(const std::filesystem::path& path);

    BpeTokenizer(BpeTokenizer&&) noexcept;
    BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
    ~BpeTokenizer();

    /// The ids of `text` without the post-processor's special tokens, truncation or padding
    /// (added tokens written in the text are still recognised).
    std::vector<int64_t> tokenize(const std::string& text) const;
    /// Ids and mask for `text` with the special tokens and fitting of `options`.
    Encoded encode(const std::string& text, const BpeOptions& options) const;

    /// The id of a vocabulary or added token.
    std::optional<int64_t> token_to_id(const std::string& token) const;
    /// The pad token's id from tokenizer_config.json / special_tokens_map.json or the
    /// tokenizer.json "padding" block; nullopt when none names one.
    std::optional<int64_t> pad_id() const;
    /// The file the tokenizer was read from.
    const std::filesystem::path& file() const { return file_; }

private:
    struct Impl;
    BpeTokenizer(std::unique_ptr<Impl> impl, std::filesystem::path file);

    std::unique_ptr<Impl> impl_;
    std::filesystem::path file_;
};

}  // namespace vmeval::tokenizers
