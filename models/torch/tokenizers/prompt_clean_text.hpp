#pragma once

// The pieces of prompt_clean (prompt_clean.hpp), on code points as Python's str is: ftfy's and
// html's patterns count and class characters, not UTF-8 bytes.

#include <optional>
#include <string>
#include <string_view>

namespace vmeval::tokenizers::detail {

/// Code points of UTF-8 text; each invalid byte reads as U+FFFD.
std::u32string utf8_to_u32(std::string_view utf8);
std::string u32_to_utf8(const std::u32string& text);
/// Appends the code points of valid UTF-8 `utf8` (a table value) to `out`.
void append_utf8(std::u32string& out, std::string_view utf8);

/// Python's html.unescape.
std::u32string html_unescape(const std::u32string& text);
/// ftfy.fixes.unescape_html: only "&name;" / "&#...;" forms, plus all-caps Latin names.
std::u32string ftfy_unescape_html(const std::u32string& text);
/// ftfy.fix_text with its default configuration.
std::u32string ftfy_fix_text(const std::u32string& text);
/// ftfy.fix_encoding: mojibake repair, repeated until nothing changes.
std::u32string fix_encoding(const std::u32string& text);
/// ftfy.fixes.fix_c1_controls: U+0080-U+009F read as sloppy Windows-1252.
std::u32string fix_c1_controls(const std::u32string& text);

// Lookups into the tables make_prompt_clean_tables.py writes from Python's own data.

/// html.entities.html5[name] (name with or without its ';').
std::optional<std::string_view> html5_entity(std::string_view name);
/// The all-caps names ftfy adds ("EACUTE;" -> "É"), with their ';'.
std::optional<std::string_view> ftfy_upper_entity(std::string_view name);
/// html's replacement for numeric reference `code` (cp1252 for 0x80-0x9F, U+FFFD for 0).
std::optional<std::string_view> html_invalid_charref(char32_t code);
/// Whether html.unescape drops numeric reference `code` (controls, noncharacters).
bool html_invalid_codepoint(char32_t code);
/// U+0080-U+009F as sloppy windows-1252 reads that byte (ftfy.fix_c1_controls).
std::string_view sloppy_cp1252(char32_t c1);
/// ftfy's halfwidth/fullwidth replacement of `c`, if it has one.
std::optional<std::string_view> width_replacement(char32_t c);
/// Python's str.isspace (also re's "\s" on str).
bool is_python_space(char32_t c);
/// Python's str.isdecimal (re's "\d" on str).
bool is_python_decimal(char32_t c);

}  // namespace vmeval::tokenizers::detail
