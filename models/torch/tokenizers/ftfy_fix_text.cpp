// ftfy.fix_text (ftfy 6.3.1, default TextFixerConfig), on code points.
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "models/torch/tokenizers/prompt_clean_text.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace {

// fix_text cuts text into lines (each keeping its '\n'), and lines into pieces this long.
constexpr size_t kMaxSegment = 1000000;
constexpr char32_t kEscape = 0x1B;

// ftfy.chardata.LIGATURES: Latin typographic ligatures and the legacy digraphs; others (æ, œ,
// non-Latin scripts) are kept because they are usually meant. Not NFKC: "ﬅ" stays "ſt".
struct Ligature {
    char32_t code;
    const char32_t* letters;
};
constexpr Ligature kLigatures[] = {
    {0x0132, U"IJ"},      {0x0133, U"ij"},      {0x0149, U"\u02BCn"}, {0x01C4, U"D\u017D"},
    {0x01C5, U"D\u017E"}, {0x01C6, U"d\u017E"}, {0x01C7, U"LJ"},      {0x01C8, U"Lj"},
    {0x01C9, U"lj"},      {0x01CA, U"NJ"},      {0x01CB, U"Nj"},      {0x01CC, U"nj"},
    {0x01F1, U"DZ"},      {0x01F2, U"Dz"},      {0x01F3, U"dz"},      {0xFB00, U"ff"},
    {0xFB01, U"fi"},      {0xFB02, U"fl"},      {0xFB03, U"ffi"},     {0xFB04, U"ffl"},
    {0xFB05, U"\u017Ft"}, {0xFB06, U"st"},
};

const char32_t* ligature(char32_t c) {
    if (c < 0x0132 || (c > 0x01F3 && c < 0xFB00) || c > 0xFB06) return nullptr;
    for (const auto& l : kLigatures) {
        if (l.code == c) return l.letters;
    }
    return nullptr;
}

// fix_character_width then uncurl_quotes on one character (after fix_latin_ligatures).
void append_width_and_quotes(std::u32string& out, char32_t c) {
    if (const auto wide = width_replacement(c)) {
        append_utf8(out, *wide);  // ASCII, kana, Hangul, symbols: no curly quotes among them
    } else if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) {
        out.push_back(U'\'');
    } else if (c >= 0x201C && c <= 0x201F) {
        out.push_back(U'"');
    } else {
        out.push_back(c);
    }
}

// fix_latin_ligatures, fix_character_width and uncurl_quotes are per-character maps, so one pass
// applies the three in ftfy's order; "ŉ" becomes "ʼn" and then "'n".
std::u32string map_characters(const std::u32string& text) {
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (const char32_t* parts = ligature(c)) {
            for (; *parts != 0; ++parts) append_width_and_quotes(out, *parts);
        } else {
            append_width_and_quotes(out, c);
        }
    }
    return out;
}

std::u32string fix_line_breaks(const std::u32string& text) {
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text[i];
        if (c == U'\r') {
            if (i + 1 < text.size() && text[i + 1] == U'\n') ++i;
            out.push_back(U'\n');
        } else if (c == 0x2028 || c == 0x2029 || c == 0x85) {
            out.push_back(U'\n');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// "\x1b[" then digits (any script's, as re's \d on str) or ';', then an ASCII letter.
std::u32string remove_terminal_escapes(const std::u32string& text) {
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text[i] == kEscape && i + 1 < text.size() && text[i + 1] == U'[') {
            size_t k = i + 2;
            while (k < text.size() && (text[k] == U';' || is_python_decimal(text[k]))) ++k;
            if (k < text.size() &&
                ((text[k] >= U'a' && text[k] <= U'z') || (text[k] >= U'A' && text[k] <= U'Z'))) {
                i = k + 1;
                continue;
            }
        }
        out.push_back(text[i++]);
    }
    return out;
}

// Controls with no visible effect; the whitespace ones, C1, joiners, bidi marks and tag
// characters stay.
bool removed_control(char32_t c) {
    return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
           (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

std::u32string remove_control_chars(const std::u32string& text) {
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (!removed_control(c)) out.push_back(c);
    }
    return out;
}

std::u32string nfc(const std::u32string& text) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
    const auto in = icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()),
                                                  static_cast<int32_t>(text.size()));
    icu::UnicodeString normalized;
    if (U_SUCCESS(status)) normalized = n->normalize(in, status);
    std::u32string out(static_cast<size_t>(normalized.countChar32()), U'\0');
    if (U_SUCCESS(status)) {
        normalized.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()),
                           status);
    }
    if (U_FAILURE(status)) {
        throw Error(
            ErrorCode::Internal,
            std::string("ICU NFC normalization failed in prompt cleaning: ") + u_errorName(status));
    }
    return out;
}

// ftfy.fix_and_explain on one segment: the fixers in ftfy's order until nothing changes.
std::u32string fix_segment(std::u32string text, bool unescape_html) {
    while (true) {
        const std::u32string before = text;
        if (unescape_html) text = ftfy_unescape_html(text);
        text = fix_encoding(text);
        text = fix_c1_controls(text);
        text = map_characters(text);
        text = fix_line_breaks(text);
        // fix_surrogates: code points from UTF-8 and from html_unescape are never surrogates.
        text = remove_terminal_escapes(text);
        text = remove_control_chars(text);
        text = nfc(text);
        if (text == before) return text;
    }
}

}  // namespace

std::u32string fix_c1_controls(const std::u32string& text) {
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c >= 0x80 && c <= 0x9F) {
            append_utf8(out, sloppy_cp1252(c));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::u32string ftfy_fix_text(const std::u32string& text) {
    std::u32string out;
    out.reserve(text.size());
    // unescape_html="auto": a segment holding '<' looks like real HTML, and from then on ftfy
    // leaves entities alone for the rest of the text, not only that line.
    bool unescape_html = true;
    for (size_t pos = 0; pos < text.size();) {
        const size_t newline = text.find(U'\n', pos);
        size_t end = newline == std::u32string::npos ? text.size() : newline + 1;
        end = std::min(end, pos + kMaxSegment);
        std::u32string segment = text.substr(pos, end - pos);
        if (segment.find(U'<') != std::u32string::npos) unescape_html = false;
        out += fix_segment(std::move(segment), unescape_html);
        pos = end;
    }
    return out;
}

}  // namespace vmeval::tokenizers::detail
