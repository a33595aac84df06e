#pragma once

// Wan's prompt cleaning (diffusers pipelines/wan `prompt_clean`): ftfy.fix_text, html.unescape
// twice, strip, every run of whitespace to one space, strip.
//
// Covered exactly (against ftfy 6.3.1 and CPython 3.11; tests/reference/goldens/prompt_clean.py):
// html.unescape (HTML5 names with and without ';', longest-prefix rule, numeric references with
// Python's replacement tables), and fix_text's per-line segments with unescape_html="auto",
// fix_encoding (the badness heuristic, re-decoding through ftfy's sloppy codecs and
// utf-8-variants, restore_byte_a0, replace_lossy_sequences, decode_inconsistent_utf8),
// fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
// remove_terminal_escapes, remove_control_chars and NFC, repeated until nothing changes. ftfy's
// patterns, codecs and Python's character tables are generated from the interpreter at build
// time (make_prompt_clean_tables.py).
//
// Known differences: fix_surrogates has nothing to do (UTF-8 cannot carry lone surrogates);
// invalid UTF-8 input bytes read as U+FFFD (Python would have rejected them before the
// pipeline); a decimal reference of more than 4300 digits, which makes Python raise, reads as an
// out-of-range one. NFC and the heuristic's \w use ICU's and PCRE2's Unicode tables, which may
// be newer than Python's for characters assigned since.

#include <string>

namespace vmeval::tokenizers {

/// diffusers' Wan prompt_clean of a UTF-8 prompt.
std::string wan_prompt_clean(const std::string& utf8);

/// ftfy.fix_text with its default configuration.
std::string ftfy_fix_text(const std::string& utf8);

/// Python's html.unescape.
std::string html_unescape(const std::string& utf8);

}  // namespace vmeval::tokenizers
