#pragma once

// The "added_tokens" of a tokenizer.json (special tokens such as <|endoftext|>): found in the
// prompt before the BPE runs and mapped straight to their ids.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmeval::tokenizers::detail {

/// One entry of "added_tokens".
struct AddedToken {
    std::string content;
    int64_t id = 0;
    bool lstrip = false;       ///< the match swallows whitespace on its left
    bool rstrip = false;       ///< the match swallows whitespace on its right
    bool single_word = false;  ///< match only where no word character touches it
    bool normalized = false;   ///< matched in the normalized text instead of the raw prompt
};

/// A piece of the prompt: either plain text or one added token.
struct Segment {
    std::string text;
    std::optional<int64_t> id;  ///< set when the segment is an added token
};

/// Finds added tokens in text, leftmost first and longest among those starting together, as the
/// tokenizers library's Aho-Corasick matcher does.
class AddedTokenMatcher {
public:
    AddedTokenMatcher() = default;
    explicit AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {}
    bool empty() const { return tokens_.empty(); }
    std::vector<Segment> split(const std::string& text) const;

private:
    std::vector<AddedToken> tokens_;
};

}  // namespace vmeval::tokenizers::detail
