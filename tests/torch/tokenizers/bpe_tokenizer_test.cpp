// Byte-level BPE from tokenizer.json (Llama-3-like, GPT-2-like with string merges, CLIP with
// </w> and its normalizer) against the ids and masks transformers produced for the same files.
#include "models/torch/tokenizers/bpe_tokenizer.hpp"

#include <gtest/gtest.h>

#include "support/testkit.hpp"
#include "torch/support/golden.hpp"
#include "torch/tokenizers/golden_prompts.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers {
namespace {

using testing::expect_same;
using vmeval::testing::golden_dir;
using vmeval::testing::load_json;

void expect_golden(const std::string& name) {
    const auto dir = golden_dir("tokenizers");
    const auto golden = load_json(dir / (name + ".json"));
    const auto tok = BpeTokenizer::load(dir / name / "tokenizer");
    const auto options = BpeOptions::padded(golden.at("max_length").get<int>());
    const auto prompts = load_json(dir / "prompts.json").get<std::vector<std::string>>();
    ASSERT_EQ(prompts.size(), golden.at("ids").size());
    for (size_t i = 0; i < prompts.size(); ++i) {
        expect_same(tok.encode(prompts[i], options), golden, i, prompts[i]);
    }
}

TEST(BpeTokenizer, Llama3MatchesTransformersForEveryPrompt) { expect_golden("llama3"); }
TEST(BpeTokenizer, GPT2StringMergesMatchTransformersForEveryPrompt) { expect_golden("gpt2"); }
TEST(BpeTokenizer, CLIPMatchesTransformersForEveryPrompt) { expect_golden("clip"); }
TEST(BpeTokenizer, CLIPFromVocabAndMergesFilesMatchesTransformers) {
    ASSERT_FALSE(std::filesystem::exists(golden_dir("tokenizers") / "clip_files" / "tokenizer" /
                                         "tokenizer.json"));
    expect_golden("clip_files");
}

TEST(BpeTokenizer, GemmaTokenizerJsonMatchesTransformers) {
    // Not byte-level: Replace(" " -> "▁"), Split(" ", MergedWithPrevious), byte fallback, fused
    // unk.
    const auto dir = golden_dir("tokenizers");
    const auto golden = load_json(dir / "gemma.json").at("right");
    const auto tok = BpeTokenizer::load(dir / "gemma" / "tokenizer");
    EXPECT_EQ(tok.pad_id(), 0);
    const auto prompts = load_json(dir / "prompts.json").get<std::vector<std::string>>();
    const auto options = BpeOptions::padded(golden.at("max_length").get<int>());
    for (size_t i = 0; i < prompts.size(); ++i) {
        expect_same(tok.encode(prompts[i], options), golden, i, prompts[i]);
    }
}

TEST(BpeTokenizer, PipelineVariantsMatchTransformers) {
    const auto dir = golden_dir("tokenizers");
    const auto golden = load_json(dir / "variants.json");
    const auto prompts = golden.at("prompts").get<std::vector<std::string>>();
    size_t checked = 0;
    for (const auto& [name, expected] : golden.items()) {
        if (name == "prompts") continue;
        SCOPED_TRACE(name);
        const auto tok = BpeTokenizer::load(dir / "variants" / name);
        const auto options = BpeOptions::padded(expected.at("max_length").get<int>());
        for (size_t i = 0; i < prompts.size(); ++i) {
            expect_same(tok.encode(prompts[i], options), expected, i, prompts[i]);
        }
        ++checked;
    }
    EXPECT_EQ(checked, 9u);
}

TEST(BpeTokenizer, CLIPPadsWithItsPadTokenAndKeepsBothSpecials) {
    const auto tok = BpeTokenizer::load(golden_dir("tokenizers") / "clip" / "tokenizer");
    const auto bos = tok.token_to_id("<|startoftext|>"), eos = tok.token_to_id("<|endoftext|>");
    ASSERT_TRUE(bos && eos);
    EXPECT_EQ(tok.pad_id(), eos);  // tokenizer_config.json: pad_token "<|endoftext|>"
    const auto enc = tok.encode("a photo of a cat", BpeOptions::clip());
    ASSERT_EQ(enc.ids.size(), 77u);
    EXPECT_EQ(enc.ids.front(), *bos);
    // Lowercasing happens in the normalizer: the same ids whatever the case.
    EXPECT_EQ(tok.tokenize("A PHOTO of a Cat"), tok.tokenize("a photo of a cat"));
    std::string words;
    for (int i = 0; i < 100; ++i) words += "cat ";
    const auto cut = tok.encode(words, BpeOptions::clip());
    ASSERT_EQ(cut.ids.size(), 77u);
    EXPECT_EQ(cut.ids.back(), *eos);
    EXPECT_EQ(cut.mask, std::vector<int64_t>(77, 1));
}

TEST(BpeTokenizer, WithoutSpecialTokensOrPadding) {
    const auto tok =
        BpeTokenizer::load(golden_dir("tokenizers") / "llama3" / "tokenizer" / "tokenizer.json");
    BpeOptions plain;
    plain.add_special_tokens = false;
    const auto enc = tok.encode("Hello world", plain);
    EXPECT_EQ(enc.ids, tok.tokenize("Hello world"));
    EXPECT_EQ(enc.mask, std::vector<int64_t>(enc.ids.size(), 1));
    BpeOptions left = BpeOptions::padded(16);
    left.padding_side = PaddingSide::Left;
    left.pad_id = 7;
    const auto padded = tok.encode("Hello world", left);
    ASSERT_EQ(padded.ids.size(), 16u);
    EXPECT_EQ(padded.ids.front(), 7);
    EXPECT_EQ(padded.mask.front(), 0);
    EXPECT_EQ(padded.mask.back(), 1);
}

TEST(BpeTokenizer, InvalidUtf8PromptIsRejected) {
    const auto tok = BpeTokenizer::load(golden_dir("tokenizers") / "llama3" / "tokenizer");
    try {
        tok.tokenize("bad \xC3\x28 byte");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidQuestion);
    }
}

void expect_config_error(const std::filesystem::path& path, const std::string& mention) {
    try {
        BpeTokenizer::load(path);
        FAIL() << "no error for " << path;
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
    }
}

TEST(BpeTokenizer, MissingOrCorruptFilesAreConfigErrors) {
    testkit::TempDir tmp;
    expect_config_error(tmp.path(), "tokenizer.json");
    testkit::write_text(tmp / "broken" / "tokenizer.json", "{\"model\": {\"vocab\": {");
    expect_config_error(tmp / "broken", "not valid JSON");
    testkit::write_text(tmp / "unigram" / "tokenizer.json",
                        R"({"model": {"type": "Unigram", "vocab": []}})");
    expect_config_error(tmp / "unigram", "Unigram");
    testkit::write_text(tmp / "merge" / "tokenizer.json",
                        R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})");
    expect_config_error(tmp / "merge", "a b");
    testkit::write_text(tmp / "regex" / "tokenizer.json",
                        R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                            "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"},
                                              "behavior": "Isolated", "invert": false}})");
    expect_config_error(tmp / "regex", "(unclosed");
    // vocab.json + merges.txt are only understood for CLIP.
    testkit::write_text(tmp / "gpt" / "vocab.json", R"({"a": 0})");
    testkit::write_text(tmp / "gpt" / "merges.txt", "#version: 0.2\n");
    testkit::write_text(tmp / "gpt" / "tokenizer_config.json",
                        R"({"tokenizer_class": "GPT2Tokenizer"})");
    expect_config_error(tmp / "gpt", "GPT2Tokenizer");
}

}  // namespace
}  // namespace vmeval::tokenizers
