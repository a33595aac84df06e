// ftfy.fix_encoding (ftfy 6.3.1): mojibake repair. Text that its "badness" heuristic flags is
// encoded back through the single-byte codecs ftfy tries and re-read as UTF-8; failing that,
// embedded UTF-8 runs are fixed alone, then Latin-1 is re-read as Windows-1252, then C1 controls.
// The patterns and codecs are ftfy's own, written into ftfy_encoding_tables.inc at build time.
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>

#include "models/torch/tokenizers/prompt_clean_text.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace {

struct CodeByte {
    char32_t code;
    unsigned char byte;
};
struct CharmapEncoding {
    std::string_view name;
    size_t size;
    CodeByte pairs[129];
};

// Written at build time from the installed ftfy.
#include "ftfy_encoding_tables.inc"

// One compiled ftfy pattern: UTF-8 text (Python str patterns, VERBOSE) or raw bytes.
class Pattern {
public:
    Pattern(std::string_view pattern, bool text) {
        int error = 0;
        PCRE2_SIZE offset = 0;
        std::unique_ptr<pcre2_compile_context, decltype(&pcre2_compile_context_free)> context(
            pcre2_compile_context_create(nullptr), &pcre2_compile_context_free);
        // Python's '.' and '$' know only '\n' as a line end.
        pcre2_set_newline(context.get(), PCRE2_NEWLINE_LF);
        const uint32_t options = text ? PCRE2_UTF | PCRE2_UCP | PCRE2_EXTENDED : 0;
        code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                              &error, &offset, context.get());
        if (code_ == nullptr) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error, message, sizeof(message));
            throw Error(ErrorCode::Internal,
                        "an ftfy pattern in ftfy_encoding_tables.inc does not compile at " +
                            std::to_string(offset) + ": " + reinterpret_cast<char*>(message));
        }
        pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
    }
    ~Pattern() { pcre2_code_free(code_); }
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;

    /// Byte range of the first match at or after `start`.
    std::optional<std::pair<size_t, size_t>> search(std::string_view subject, size_t start) const {
        std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
            pcre2_match_data_create_from_pattern(code_, nullptr), &pcre2_match_data_free);
        const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()),
                                   subject.size(), start, PCRE2_NO_UTF_CHECK, data.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) return std::nullopt;
        if (rc < 0)
            throw Error(ErrorCode::Internal, "ftfy pattern matching failed in prompt_clean");
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
        return std::make_pair(static_cast<size_t>(ovector[0]), static_cast<size_t>(ovector[1]));
    }

    /// re.sub: every non-overlapping match replaced by fn(match).
    template <class Fn>
    std::string substitute(std::string_view subject, Fn fn) const {
        std::string out;
        size_t pos = 0;
        while (auto m = search(subject, pos)) {
            out.append(subject, pos, m->first - pos);
            out += fn(subject.substr(m->first, m->second - m->first));
            pos = m->second;
        }
        out.append(subject, pos, std::string_view::npos);
        return out;
    }

private:
    pcre2_code* code_ = nullptr;
};

const Pattern& badness_pattern() {
    static const Pattern p(kBadnessPattern, true);
    return p;
}
const Pattern& utf8_detector_pattern() {
    static const Pattern p(kUtf8DetectorPattern, true);
    return p;
}
const Pattern& altered_utf8_pattern() {
    static const Pattern p(kAlteredUtf8Pattern, false);
    return p;
}
const Pattern& lossy_utf8_pattern() {
    static const Pattern p(kLossyUtf8Pattern, false);
    return p;
}
const Pattern& a_grave_word_pattern() {
    static const Pattern p(kAGraveWordPattern, false);
    return p;
}

std::optional<unsigned char> encode_char(const CharmapEncoding& enc, char32_t c) {
    if (c < 0x80 && c != 0x1A) return static_cast<unsigned char>(c);
    const auto* end = enc.pairs + enc.size;
    const auto* it = std::lower_bound(enc.pairs, end, c,
                                      [](const CodeByte& p, char32_t v) { return p.code < v; });
    if (it == end || it->code != c) return std::nullopt;
    return it->byte;
}

// ftfy's possible_encoding + str.encode: the bytes `text` came from in `enc`, if it could have.
std::optional<std::string> encode(const CharmapEncoding& enc, const std::u32string& text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        const auto byte = encode_char(enc, c);
        if (!byte) return std::nullopt;
        out.push_back(static_cast<char>(*byte));
    }
    return out;
}

// ftfy.fixes.restore_byte_a0: put back the 0xA0 bytes a Windows-1252 program turned into spaces.
std::string restore_byte_a0(std::string_view bytes) {
    const std::string with_a_grave = a_grave_word_pattern().substitute(
        bytes, [](std::string_view) { return std::string("\xC3\xA0 "); });
    return altered_utf8_pattern().substitute(with_a_grave, [](std::string_view m) {
        std::string s(m);
        std::replace(s.begin(), s.end(), ' ', '\xA0');
        return s;
    });
}

// Strict UTF-8 as Python decodes it; with `variants` (ftfy's utf-8-variants) also CESU-8
// surrogate pairs and Java's C0 80 for NUL.
std::optional<std::u32string> decode_utf8(std::string_view bytes, bool variants) {
    std::u32string out;
    const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
    const auto cont = [](unsigned char b, unsigned char lo, unsigned char hi) {
        return b >= lo && b <= hi;
    };
    const size_t n = bytes.size();
    for (size_t i = 0; i < n;) {
        const unsigned char b0 = at(i);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        if (variants && b0 == 0xC0 && i + 1 < n && at(i + 1) == 0x80) {
            out.push_back(0);
            i += 2;
            continue;
        }
        if (variants && b0 == 0xED && i + 5 < n && cont(at(i + 1), 0xA0, 0xAF) &&
            cont(at(i + 2), 0x80, 0xBF) && at(i + 3) == 0xED && cont(at(i + 4), 0xB0, 0xBF) &&
            cont(at(i + 5), 0x80, 0xBF)) {
            out.push_back(0x10000 + ((at(i + 1) & 0x0Fu) << 16) + ((at(i + 2) & 0x3Fu) << 10) +
                          ((at(i + 4) & 0x0Fu) << 6) + (at(i + 5) & 0x3Fu));
            i += 6;
            continue;
        }
        size_t len = 0;
        char32_t c = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2, c = b0 & 0x1Fu;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3, c = b0 & 0x0Fu;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4, c = b0 & 0x07u;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else {
            return std::nullopt;
        }
        if (i + len > n || !cont(at(i + 1), lo, hi)) return std::nullopt;
        for (size_t k = 1; k < len; ++k) {
            if (k > 1 && !cont(at(i + k), 0x80, 0xBF)) return std::nullopt;
            c = (c << 6) | (at(i + k) & 0x3Fu);
        }
        out.push_back(c);
        i += len;
    }
    return out;
}

bool is_bad(const std::u32string& text) {
    return badness_pattern().search(u32_to_utf8(text), 0).has_value();
}

// ftfy.fixes.decode_inconsistent_utf8: runs that look like UTF-8 read as Latin-1 are fixed on
// their own when they alone look bad (and are shorter than the whole, so this terminates).
std::u32string decode_inconsistent_utf8(const std::u32string& text) {
    const std::string utf8 = u32_to_utf8(text);
    return utf8_to_u32(utf8_detector_pattern().substitute(utf8, [&](std::string_view m) {
        const std::u32string part = utf8_to_u32(m);
        if (part.size() < text.size() && is_bad(part)) return u32_to_utf8(fix_encoding(part));
        return std::string(m);
    }));
}

// Windows-1252 proper, where the five undefined bytes fail (sloppy-1252 keeps them as C1).
std::optional<std::u32string> latin1_as_cp1252(const std::u32string& text) {
    static_assert(kCharmapEncodings[1].name == "sloppy-windows-1252");
    const CharmapEncoding& sloppy = kCharmapEncodings[1];
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c < 0x80 || c > 0x9F) {
            out.push_back(c);
            continue;
        }
        if (encode_char(sloppy, c)) return std::nullopt;  // 0x81, 0x8D, 0x8F, 0x90, 0x9D
        append_utf8(out, sloppy_cp1252(c));
    }
    return out;
}

std::u32string fix_encoding_step(const std::u32string& text) {
    if (text.empty()) return text;
    if (std::all_of(text.begin(), text.end(), [](char32_t c) { return c < 0x80; })) return text;
    if (!is_bad(text)) return text;
    bool latin1_possible = false;
    for (const CharmapEncoding& enc : kCharmapEncodings) {
        auto bytes = encode(enc, text);
        if (!bytes) continue;
        latin1_possible = latin1_possible || enc.name == "latin-1";
        if (enc.name != "macroman" && altered_utf8_pattern().search(*bytes, 0)) {
            *bytes = restore_byte_a0(*bytes);
        }
        if (enc.name.substr(0, 7) == "sloppy-") {
            *bytes = lossy_utf8_pattern().substitute(
                *bytes, [](std::string_view) { return std::string("\xEF\xBF\xBD"); });
        }
        const bool variants = bytes->find_first_of("\xED\xC0") != std::string::npos;
        if (auto decoded = decode_utf8(*bytes, variants)) return *decoded;
    }
    if (utf8_detector_pattern().search(u32_to_utf8(text), 0)) {
        auto fixed = decode_inconsistent_utf8(text);
        if (fixed != text) return fixed;
    }
    // ftfy asks whether "windows-1252" was possible, a name its list never holds (it has the
    // sloppy one), so Latin-1 text is always re-read as Windows-1252 here.
    if (latin1_possible) {
        if (auto fixed = latin1_as_cp1252(text); fixed && *fixed != text) return *fixed;
    }
    if (std::any_of(text.begin(), text.end(), [](char32_t c) { return c >= 0x80 && c <= 0x9F; })) {
        return fix_c1_controls(text);
    }
    return text;
}

}  // namespace

std::u32string fix_encoding(const std::u32string& text) {
    std::u32string current = text;
    while (true) {
        std::u32string next = fix_encoding_step(current);
        if (next == current) return current;
        current = std::move(next);
    }
}

}  // namespace vmeval::tokenizers::detail
