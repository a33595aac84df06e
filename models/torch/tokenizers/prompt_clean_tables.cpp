#include <algorithm>
#include <iterator>

#include "models/torch/tokenizers/prompt_clean_text.hpp"

namespace vmeval::tokenizers::detail {

namespace {

struct NamedRef {
    std::string_view name;
    std::string_view value;
};
struct CodeRef {
    char32_t code;
    std::string_view value;
};
struct CodeRange {
    char32_t first;
    char32_t last;
};

// Written at build time from the interpreter's html, unicodedata and str data.
#include "prompt_clean_tables.inc"

template <size_t N>
std::optional<std::string_view> find_name(const NamedRef (&table)[N], std::string_view name) {
    const auto* it =
        std::lower_bound(std::begin(table), std::end(table), name,
                         [](const NamedRef& e, std::string_view n) { return e.name < n; });
    if (it == std::end(table) || it->name != name) return std::nullopt;
    return it->value;
}

template <size_t N>
std::optional<std::string_view> find_code(const CodeRef (&table)[N], char32_t code) {
    const auto* it = std::lower_bound(std::begin(table), std::end(table), code,
                                      [](const CodeRef& e, char32_t c) { return e.code < c; });
    if (it == std::end(table) || it->code != code) return std::nullopt;
    return it->value;
}

template <size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t c) {
    const auto* it = std::upper_bound(std::begin(table), std::end(table), c,
                                      [](char32_t v, const CodeRange& r) { return v < r.first; });
    return it != std::begin(table) && c <= std::prev(it)->last;
}

}  // namespace

std::optional<std::string_view> html5_entity(std::string_view name) {
    return find_name(kHtml5Entities, name);
}

std::optional<std::string_view> ftfy_upper_entity(std::string_view name) {
    return find_name(kFtfyUpperEntities, name);
}

std::optional<std::string_view> html_invalid_charref(char32_t code) {
    return find_code(kInvalidCharrefs, code);
}

bool html_invalid_codepoint(char32_t code) {
    return std::binary_search(std::begin(kInvalidCodepoints), std::end(kInvalidCodepoints), code);
}

std::string_view sloppy_cp1252(char32_t c1) { return kSloppyCp1252[c1 - 0x80].value; }

std::optional<std::string_view> width_replacement(char32_t c) { return find_code(kWidthMap, c); }

bool is_python_space(char32_t c) { return in_ranges(kPythonSpace, c); }

bool is_python_decimal(char32_t c) { return in_ranges(kPythonDecimal, c); }

}  // namespace vmeval::tokenizers::detail
