#pragma once

// PCRE2 in UTF + UCP mode: the Hugging Face tokenizers' regexes (Onig syntax) rely on \p{L},
// \p{N}, Unicode \s, (?i:...) and the (?!\S) lookahead, which std::regex and RE2 lack.

#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vmeval::tokenizers::detail {

/// A compiled pattern; matching is const and thread-safe (match data is per call).
class UnicodeRegex {
public:
    /// Compiles `pattern`, written for Oniguruma as tokenizer.json files are (\w keeps Onig's
    /// Unicode meaning); throws Error(Config) naming `where` when PCRE2 rejects it.
    UnicodeRegex(const std::string& pattern, const std::string& where);
    /// A pattern matching `literal` exactly.
    static UnicodeRegex literal(const std::string& literal, const std::string& where);

    /// Byte ranges [begin, end) of the successive non-overlapping, non-empty matches in `text`.
    /// Throws Error(InvalidQuestion) when `text` is not valid UTF-8.
    std::vector<std::pair<size_t, size_t>> find_all(const std::string& text) const;
    /// `text` with every match replaced by `replacement` (taken literally).
    std::string replace_all(const std::string& text, const std::string& replacement) const;

private:
    struct Code;
    std::shared_ptr<const Code> code_;
};

/// The regex of a tokenizer.json "pattern" ({"Regex": ...} or {"String": ...}, the latter literal).
UnicodeRegex pattern_of(const nlohmann::json& pattern, const std::string& where);

}  // namespace vmeval::tokenizers::detail
