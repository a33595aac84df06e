// Python's html.unescape and ftfy's stricter unescape_html, on code points.
#include <algorithm>

#include "models/torch/tokenizers/prompt_clean_text.hpp"

namespace vmeval::tokenizers::detail {

namespace {

constexpr size_t kMaxNameLength = 32;      // html's pattern: [^\t\n\f <&#;]{1,32};?
constexpr size_t kMaxFtfyNameLength = 24;  // ftfy's pattern: &#?[0-9A-Za-z]{1,24};
// Any value past the last code point reads the same (U+FFFD), so parsing saturates here.
constexpr char32_t kBeyondUnicode = 0x110000;

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_ascii_alpha(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }
bool is_ascii_hex(char32_t c) {
    return is_ascii_digit(c) || (c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F');
}
int hex_value(char32_t c) {
    if (is_ascii_digit(c)) return static_cast<int>(c - U'0');
    if (c >= U'a' && c <= U'f') return static_cast<int>(c - U'a') + 10;
    return static_cast<int>(c - U'A') + 10;
}
bool in_name(char32_t c) {
    return c != U'\t' && c != U'\n' && c != U'\f' && c != U' ' && c != U'<' && c != U'&' &&
           c != U'#' && c != U';';
}

// An ASCII string of text[first, last), or nothing when a character is outside ASCII (no
// entity name has one).
std::optional<std::string> ascii(const std::u32string& text, size_t first, size_t last) {
    std::string out;
    out.reserve(last - first);
    for (size_t i = first; i < last; ++i) {
        if (text[i] >= 0x80) return std::nullopt;
        out.push_back(static_cast<char>(text[i]));
    }
    return out;
}

void append_numeric(std::u32string& out, char32_t num) {
    if (const auto replacement = html_invalid_charref(num)) {
        append_utf8(out, *replacement);
    } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
        out.push_back(0xFFFD);
    } else if (!html_invalid_codepoint(num)) {
        out.push_back(num);
    }
}

// One reference starting at text[amp] == '&': appends its replacement and returns the index
// after it, or returns amp when html's pattern does not match there.
size_t unescape_one(const std::u32string& text, size_t amp, std::u32string& out) {
    const size_t n = text.size();
    size_t j = amp + 1;
    if (j < n && text[j] == U'#') {
        const bool hex = j + 1 < n && (text[j + 1] == U'x' || text[j + 1] == U'X');
        const size_t digits = hex ? j + 2 : j + 1;
        const auto is_digit = hex ? is_ascii_hex : is_ascii_digit;
        // "&#x" without hex digits tries the decimal form first, which needs a digit at j + 1.
        if (digits >= n || !is_digit(text[digits])) return amp;
        char32_t num = 0;
        size_t k = digits;
        for (; k < n && is_digit(text[k]); ++k) {
            const char32_t d = static_cast<char32_t>(hex ? hex_value(text[k]) : text[k] - U'0');
            num = std::min<char32_t>(num * (hex ? 16 : 10) + d, kBeyondUnicode);
        }
        if (k < n && text[k] == U';') ++k;
        append_numeric(out, num);
        return k;
    }
    size_t k = j;
    while (k < n && k - j < kMaxNameLength && in_name(text[k])) ++k;
    if (k == j) return amp;
    if (k < n && text[k] == U';') ++k;
    if (const auto name = ascii(text, j, k)) {
        if (const auto value = html5_entity(*name)) {
            append_utf8(out, *value);
            return k;
        }
    }
    // The longest name that is a prefix (at least two characters), the rest kept as text.
    size_t ascii_len = 0;
    while (j + ascii_len < k && text[j + ascii_len] < 0x80) ++ascii_len;
    for (size_t x = std::min(k - j - 1, ascii_len); x >= 2; --x) {
        const auto prefix = ascii(text, j, j + x);
        if (const auto value = html5_entity(*prefix)) {
            append_utf8(out, *value);
            out.append(text, j + x, k - j - x);
            return k;
        }
    }
    out.append(text, amp, k - amp);
    return k;
}

}  // namespace

std::u32string html_unescape(const std::u32string& text) {
    if (text.find(U'&') == std::u32string::npos) return text;
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text[i] == U'&') {
            const size_t next = unescape_one(text, i, out);
            if (next != i) {
                i = next;
                continue;
            }
        }
        out.push_back(text[i++]);
    }
    return out;
}

std::u32string ftfy_unescape_html(const std::u32string& text) {
    const size_t n = text.size();
    std::u32string out;
    out.reserve(n);
    for (size_t i = 0; i < n;) {
        if (text[i] != U'&') {
            out.push_back(text[i++]);
            continue;
        }
        const bool numeric = i + 1 < n && text[i + 1] == U'#';
        const size_t j = numeric ? i + 2 : i + 1;
        size_t k = j;
        while (k < n && (is_ascii_digit(text[k]) || is_ascii_alpha(text[k]))) ++k;
        if (k == j || k - j > kMaxFtfyNameLength || k >= n || text[k] != U';') {
            out.push_back(text[i++]);
            continue;
        }
        const std::u32string match = text.substr(i, k + 1 - i);
        if (numeric) {
            // html.unescape of the whole match; kept as is when it did not consume the ';'.
            const auto unescaped = html_unescape(match);
            out += unescaped.find(U';') == std::u32string::npos ? unescaped : match;
        } else {
            const auto name = *ascii(text, j, k + 1);
            auto value = html5_entity(name);
            if (!value) value = ftfy_upper_entity(name);
            if (value) {
                append_utf8(out, *value);
            } else {
                out += match;
            }
        }
        i = k + 1;
    }
    return out;
}

}  // namespace vmeval::tokenizers::detail
