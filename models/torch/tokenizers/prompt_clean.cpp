#include "models/torch/tokenizers/prompt_clean.hpp"

#include "models/torch/tokenizers/prompt_clean_text.hpp"

namespace vmeval::tokenizers {

namespace detail {

std::u32string utf8_to_u32(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    const size_t n = utf8.size();
    for (size_t i = 0; i < n;) {
        const auto b0 = static_cast<unsigned char>(utf8[i]);
        size_t len = 0;
        char32_t c = 0;
        char32_t min = 0;
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        } else if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2, c = b0 & 0x1F, min = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3, c = b0 & 0x0F, min = 0x800;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4, c = b0 & 0x07, min = 0x10000;
        }
        bool ok = len != 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(utf8[i + k]);
            ok = (b & 0xC0) == 0x80;
            c = (c << 6) | (b & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
        ok = ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
        out.push_back(ok ? c : 0xFFFD);
        i += ok ? len : 1;
    }
    return out;
}

std::string u32_to_utf8(const std::u32string& text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

void append_utf8(std::u32string& out, std::string_view utf8) { out += utf8_to_u32(utf8); }

}  // namespace detail

std::string html_unescape(const std::string& utf8) {
    return detail::u32_to_utf8(detail::html_unescape(detail::utf8_to_u32(utf8)));
}

std::string ftfy_fix_text(const std::string& utf8) {
    return detail::u32_to_utf8(detail::ftfy_fix_text(detail::utf8_to_u32(utf8)));
}

std::string wan_prompt_clean(const std::string& utf8) {
    using detail::is_python_space;
    const std::u32string text = detail::html_unescape(
        detail::html_unescape(detail::ftfy_fix_text(detail::utf8_to_u32(utf8))));
    // strip(), re.sub(r"\s+", " "), strip(): Python's whitespace set for all three, so the
    // result is the words joined by single spaces.
    std::u32string out;
    out.reserve(text.size());
    bool pending_space = false;
    for (char32_t c : text) {
        if (is_python_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(U' ');
        pending_space = false;
        out.push_back(c);
    }
    return detail::u32_to_utf8(out);
}

}  // namespace vmeval::tokenizers
