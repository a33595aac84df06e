#define PCRE2_CODE_UNIT_WIDTH 8
#include "models/torch/tokenizers/unicode_regex.hpp"

#include <pcre2.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

struct UnicodeRegex::Code {
    pcre2_code* code = nullptr;
    ~Code() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int error) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error, buffer, sizeof(buffer));
    return reinterpret_cast<const char*>(buffer);
}

using MatchData = std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)>;

size_t utf8_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead >> 5) == 0x6) return 2;
    if ((lead >> 4) == 0xE) return 3;
    return 4;
}

}  // namespace

namespace {

// Oniguruma's Unicode \w (the tokenizers library's regex engine): letters and other alphabetics,
// marks, decimal digits, connector punctuation and the joiners; PCRE2's UCP \w lacks the marks
// (e.g. the emoji variation selector U+FE0F) and the joiners (U+200D in emoji sequences).
constexpr const char* kOnigWord = R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D})";

/// `pattern` with \w and \W given Oniguruma's meaning; everything else is the same in PCRE2.
std::string onig_compatible(const std::string& pattern) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char next = pattern[++i];
            if (next == 'w') {
                out += in_class ? std::string(kOnigWord) : "[" + std::string(kOnigWord) + "]";
            } else if (next == 'W' && !in_class) {
                out += "[^" + std::string(kOnigWord) + "]";
            } else {
                out += c;
                out += next;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal member, not the end of the class.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

}  // namespace

UnicodeRegex::UnicodeRegex(const std::string& onig_pattern, const std::string& where) {
    const std::string pattern = onig_compatible(onig_pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    auto code = std::make_shared<Code>();
    code->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                               PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (code->code == nullptr) {
        throw Error(ErrorCode::Config, where + ": regex /" + onig_pattern +
                                           "/ does not compile at " + std::to_string(offset) +
                                           ": " + pcre2_message(error));
    }
    // JIT is an optimisation only; the interpreter gives the same matches when it is missing.
    pcre2_jit_compile(code->code, PCRE2_JIT_COMPLETE);
    code_ = std::move(code);
}

UnicodeRegex UnicodeRegex::literal(const std::string& literal, const std::string& where) {
    std::string escaped;
    for (const char c : literal) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80 && !std::isalnum(byte)) escaped += '\\';
        escaped += c;
    }
    return UnicodeRegex(escaped, where);
}

std::vector<std::pair<size_t, size_t>> UnicodeRegex::find_all(const std::string& text) const {
    std::vector<std::pair<size_t, size_t>> out;
    MatchData data(pcre2_match_data_create_from_pattern(code_->code, nullptr),
                   &pcre2_match_data_free);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    uint32_t options = 0;
    size_t start = 0;
    while (start <= text.size()) {
        const int rc =
            pcre2_match(code_->code, subject, text.size(), start, options, data.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) {
                throw Error(ErrorCode::InvalidQuestion,
                            "the prompt is not valid UTF-8 (" + pcre2_message(rc) + ")");
            }
            throw Error(ErrorCode::Internal, "regex matching failed: " + pcre2_message(rc));
        }
        // The subject was checked on the first call; later calls skip the UTF-8 scan.
        options = PCRE2_NO_UTF_CHECK;
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
        const size_t begin = ovector[0], end = ovector[1];
        if (end > begin) {
            out.emplace_back(begin, end);
            start = end;
        } else {
            // An empty match yields no token; step over one whole character.
            if (begin >= text.size()) break;
            start = begin + utf8_length(static_cast<unsigned char>(text[begin]));
        }
    }
    return out;
}

std::string UnicodeRegex::replace_all(const std::string& text,
                                      const std::string& replacement) const {
    std::string out;
    size_t last = 0;
    for (const auto& [begin, end] : find_all(text)) {
        out.append(text, last, begin - last);
        out += replacement;
        last = end;
    }
    out.append(text, last, std::string::npos);
    return out;
}

UnicodeRegex pattern_of(const nlohmann::json& pattern, const std::string& where) {
    if (pattern.contains("Regex"))
        return UnicodeRegex(pattern.at("Regex").get<std::string>(), where);
    if (pattern.contains("String")) {
        return UnicodeRegex::literal(pattern.at("String").get<std::string>(), where);
    }
    throw Error(ErrorCode::Config, where + ": pattern " + pattern.dump() +
                                       " is neither {\"Regex\": ...} nor {\"String\": ...}");
}

}  // namespace vmeval::tokenizers::detail
