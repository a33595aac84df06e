#pragma once

// The "pre_tokenizer" of a tokenizer.json: Split (regex or string, every delimiter behaviour,
// invert), ByteLevel (GPT-2 regex, prefix space, byte-to-unicode mapping), Whitespace,
// WhitespaceSplit, Digits and Sequence.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace vmeval::tokenizers::detail {

/// One pre-tokenization step: splits each piece into smaller pieces (in place).
class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    virtual void apply(std::vector<std::string>& pieces) const = 0;
};

/// The pre-tokenizer `spec` describes (null: none); throws Error(Config) naming `where` and the
/// type for one this implementation does not know.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec,
                                                 const std::string& where);

/// GPT-2's byte-to-unicode table applied to every byte of `bytes` (the alphabet of byte-level
/// BPE vocabularies: printable bytes map to themselves, the rest to U+0100 and up).
std::string byte_level_encode(const std::string& bytes);

}  // namespace vmeval::tokenizers::detail
