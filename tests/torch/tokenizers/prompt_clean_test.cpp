// Wan's prompt cleaning against diffusers' prompt_clean (ftfy 6.3.1 + html.unescape) over the
// corpus of tests/reference/goldens/prompt_clean.py (prompts, entities, controls, widths,
// mojibake): exact equality for every case.
#include "models/torch/tokenizers/prompt_clean.hpp"

#include <gtest/gtest.h>

#include <string>

#include "torch/support/golden.hpp"

namespace vmeval::tokenizers {
namespace {

using vmeval::testing::golden_dir;
using vmeval::testing::load_json;

nlohmann::json golden() { return load_json(golden_dir("prompt_clean") / "cases.json"); }

// The input as a JSON string literal: control characters and odd spaces stay readable.
std::string shown(const std::string& text) { return nlohmann::json(text).dump(); }

// Every row's `field` against fn(input); one failure line per mismatching input.
template <class Fn>
void expect_all(const nlohmann::json& rows, const char* field, Fn fn) {
    ASSERT_FALSE(rows.empty());
    for (const auto& row : rows) {
        const auto input = row.at("input").get<std::string>();
        EXPECT_EQ(fn(input), row.at(field).get<std::string>())
            << field << " of input " << shown(input);
    }
}

TEST(PromptClean, WanPromptCleanMatchesDiffusers) {
    expect_all(golden().at("cases"), "expected", wan_prompt_clean);
}

TEST(PromptClean, FixTextMatchesFtfy) {
    expect_all(golden().at("cases"), "fix_text", ftfy_fix_text);
}

TEST(PromptClean, HtmlUnescapeMatchesPython) {
    expect_all(golden().at("cases"), "html_unescape", html_unescape);
}

// ftfy's mojibake repair (fix_encoding) runs on real inputs only when its heuristic fires: the
// corpus must keep enough of them for the two tests above to cover it.
TEST(PromptClean, CorpusExercisesMojibakeRepair) {
    const auto all = golden();
    size_t mojibake = 0;
    for (const auto& row : all.at("cases")) mojibake += row.at("mojibake").get<bool>() ? 1 : 0;
    EXPECT_GE(mojibake, 50u);
}

// Python never sees invalid UTF-8 (it fails to decode first); here each bad byte is U+FFFD.
TEST(PromptClean, InvalidUtf8BytesReadAsReplacementCharacters) {
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(
        wan_prompt_clean("caf\xC3 x\xFF\xED\xA0\x80 ok\xF0\x9F"),
        wan_prompt_clean("caf" + fffd + " x" + fffd + fffd + fffd + fffd + " ok" + fffd + fffd));
    EXPECT_EQ(html_unescape("\xC0\x80&amp;"), fffd + fffd + "&");
}

}  // namespace
}  // namespace vmeval::tokenizers
