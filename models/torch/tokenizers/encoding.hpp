#pragma once

// What every tokenizer returns, and the truncation and padding rules transformers applies when a
// prompt is encoded with padding="max_length", truncation=True.

#include <cstdint>
#include <vector>

namespace vmeval::tokenizers {

/// Token ids and their attention mask (1 for a real or special token, 0 for padding).
struct Encoded {
    std::vector<int64_t> ids;
    std::vector<int64_t> mask;
};

/// Which end receives the padding (T5 and CLIP pad right; LTX-2's Gemma pads left).
enum class PaddingSide { Right, Left };

/// How a tokenized prompt is fitted to a fixed length.
struct Fit {
    int max_length = 0;       ///< 0: no limit and no padding
    bool truncate = true;     ///< drop content tokens beyond max_length (special tokens stay)
    bool pad_to_max = false;  ///< pad up to max_length
    PaddingSide side = PaddingSide::Right;
    int64_t pad_id = 0;
};

/// Builds prefix + content + suffix, first cutting `content` from the right so the whole fits
/// max_length (transformers keeps the special tokens when it truncates), then pads.
Encoded assemble(std::vector<int64_t> content, const std::vector<int64_t>& prefix,
                 const std::vector<int64_t>& suffix, const Fit& fit);

}  // namespace vmeval::tokenizers
