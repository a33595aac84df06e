#pragma once

// SentencePiece models (T5 and umT5 unigram, Gemma BPE with byte fallback) read from the
// spiece.model / tokenizer.model a diffusers repo ships, encoded the way transformers' tokenizer
// for each family does (special tokens, truncation, padding). libsentencepiece loads the model,
// normalizes and runs BPE; unigram segmentation is done in unigram.hpp to match transformers'
// tie-breaking and its unk handling.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/torch/tokenizers/encoding.hpp"

namespace vmeval::tokenizers {

/// Special tokens and fitting for one encode call.
struct SentencePieceOptions {
    int max_length = 0;       ///< 0: no limit and no padding
    bool pad_to_max = false;  ///< pad up to max_length with the model's pad id
    bool truncate = true;     ///< cut content so content + specials fit max_length
    bool add_bos = false;     ///< prepend the model's bos id (Gemma)
    bool add_eos = true;      ///< append the model's eos id (T5, umT5)
    PaddingSide padding_side = PaddingSide::Right;

    /// T5/umT5 as T5Tokenizer encodes for diffusers: `</s>` appended, padded right to max_length.
    static SentencePieceOptions t5(int max_length);
    /// Gemma as GemmaTokenizer encodes: `<bos>` prepended, no eos; the pipeline picks the side.
    static SentencePieceOptions gemma(int max_length, PaddingSide side = PaddingSide::Right);
};

/// A loaded SentencePiece model; immutable after load and safe to share between threads.
class SentencePieceTokenizer {
public:
    /// Loads `path`: a .model file, or a folder holding spiece.model or tokenizer.model.
    /// Throws Error(Config) naming the file when it is missing or not a SentencePiece model.
    static SentencePieceTokenizer load(const std::filesystem::path& path);

    SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept;
    SentencePieceTokenizer& operator=(SentencePieceTokenizer&&) noexcept;
    ~SentencePieceTokenizer();

    /// The model's ids for `text`, without added bos/eos, truncation or padding (control pieces
    /// written in the text, e.g. "</s>", still map to their ids as in transformers).
    std::vector<int64_t> tokenize(const std::string& text) const;
    /// Ids and mask for `text` with the special tokens and fitting of `options`.
    Encoded encode(const std::string& text, const SentencePieceOptions& options) const;

    int64_t vocab_size() const;
    int64_t bos_id() const;  ///< -1 when the model has none
    int64_t eos_id() const;  ///< -1 when the model has none
    int64_t pad_id() const;  ///< the model's pad id, or 0 when it defines none (T5's convention)
    int64_t unk_id() const;
    /// The piece text of `id` (e.g. "▁cat", "<0x0A>").
    std::string piece(int64_t id) const;
    /// The file the model was read from.
    const std::filesystem::path& file() const { return file_; }

private:
    struct Impl;
    SentencePieceTokenizer(std::unique_ptr<Impl> impl, std::filesystem::path file);

    std::unique_ptr<Impl> impl_;
    std::filesystem::path file_;
};

}  // namespace vmeval::tokenizers
