// SentencePiece tokenizers (T5-like unigram, Gemma-like BPE with byte fallback) against the ids
// and masks transformers' T5Tokenizer / GemmaTokenizer produced for the same model files.
#include "models/torch/tokenizers/sentencepiece_tokenizer.hpp"

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

std::vector<std::string> prompts() {
    return load_json(golden_dir("tokenizers") / "prompts.json").get<std::vector<std::string>>();
}

TEST(SentencePieceTokenizer, T5MatchesTransformersForEveryPrompt) {
    const auto dir = golden_dir("tokenizers");
    const auto golden = load_json(dir / "t5.json");
    // Loading the folder finds spiece.model, as in a diffusers repo's tokenizer/.
    const auto tok = SentencePieceTokenizer::load(dir / "t5" / "tokenizer");
    EXPECT_EQ(tok.pad_id(), 0);
    EXPECT_EQ(tok.eos_id(), 1);
    EXPECT_EQ(tok.unk_id(), 2);
    const auto options = SentencePieceOptions::t5(golden.at("max_length").get<int>());
    const auto all = prompts();
    ASSERT_EQ(all.size(), golden.at("ids").size());
    for (size_t i = 0; i < all.size(); ++i)
        expect_same(tok.encode(all[i], options), golden, i, all[i]);
}

TEST(SentencePieceTokenizer, UnigramByteFallbackModelGivesUnkLikeTransformers) {
    // umT5-like: trained with byte pieces, but transformers' T5 tokenizer ignores byte fallback.
    const auto dir = golden_dir("tokenizers");
    const auto golden = load_json(dir / "umt5.json");
    const auto tok = SentencePieceTokenizer::load(dir / "umt5" / "tokenizer");
    bool has_bytes = false;
    for (int64_t id = 0; id < tok.vocab_size(); ++id)
        has_bytes = has_bytes || tok.piece(id) == "<0x41>";
    EXPECT_TRUE(has_bytes) << "the golden model must carry byte pieces";
    const auto options = SentencePieceOptions::t5(golden.at("max_length").get<int>());
    const auto all = prompts();
    ASSERT_EQ(all.size(), golden.at("ids").size());
    for (size_t i = 0; i < all.size(); ++i) {
        expect_same(tok.encode(all[i], options), golden, i, all[i]);
    }
    // Two unknown snowmen: one fused <unk> after the dummy-prefix "▁", no byte pieces.
    const auto ids = tok.tokenize("\xE2\x98\x83\xE2\x98\x83");
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(tok.piece(ids[0]), "\xE2\x96\x81");
    EXPECT_EQ(ids[1], tok.unk_id());
}

TEST(SentencePieceTokenizer, T5TruncationKeepsEos) {
    const auto tok = SentencePieceTokenizer::load(golden_dir("tokenizers") / "t5" / "tokenizer");
    const auto long_prompt = std::string(200, 'x') + " the end";
    const auto enc = tok.encode(long_prompt, SentencePieceOptions::t5(8));
    ASSERT_EQ(enc.ids.size(), 8u);
    EXPECT_EQ(enc.ids.back(), tok.eos_id());
    EXPECT_EQ(enc.mask, std::vector<int64_t>(8, 1));
    // Without a limit nothing is cut or padded.
    SentencePieceOptions free;
    const auto whole = tok.encode(long_prompt, free);
    EXPECT_GT(whole.ids.size(), 8u);
    EXPECT_EQ(whole.ids.back(), tok.eos_id());
}

TEST(SentencePieceTokenizer, GemmaMatchesTransformersBothPaddingSides) {
    const auto dir = golden_dir("tokenizers");
    const auto golden = load_json(dir / "gemma.json");
    const auto tok = SentencePieceTokenizer::load(dir / "gemma" / "tokenizer" / "tokenizer.model");
    EXPECT_EQ(tok.bos_id(), 2);
    const auto all = prompts();
    for (const auto& [name, side] :
         {std::pair{"right", PaddingSide::Right}, {"left", PaddingSide::Left}}) {
        SCOPED_TRACE(name);
        const auto& expected = golden.at(name);
        const auto options =
            SentencePieceOptions::gemma(expected.at("max_length").get<int>(), side);
        ASSERT_EQ(all.size(), expected.at("ids").size());
        for (size_t i = 0; i < all.size(); ++i)
            expect_same(tok.encode(all[i], options), expected, i, all[i]);
    }
}

TEST(SentencePieceTokenizer, GemmaFallsBackToBytes) {
    const auto tok = SentencePieceTokenizer::load(golden_dir("tokenizers") / "gemma" / "tokenizer");
    // A snowman is not in the tiny vocabulary: its three UTF-8 bytes come out as <0x..> pieces.
    const auto ids = tok.tokenize("\xE2\x98\x83");
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(tok.piece(ids[0]), "<0xE2>");
    EXPECT_EQ(tok.piece(ids[1]), "<0x98>");
    EXPECT_EQ(tok.piece(ids[2]), "<0x83>");
}

TEST(SentencePieceTokenizer, MissingModelNamesTheFile) {
    testkit::TempDir tmp;
    try {
        SentencePieceTokenizer::load(tmp / "nowhere" / "spiece.model");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(std::string(e.what()).find("nowhere/spiece.model"), std::string::npos)
            << e.what();
    }
    // A folder without either model file names what it looked for.
    try {
        SentencePieceTokenizer::load(tmp.path());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("spiece.model or tokenizer.model"), std::string::npos)
            << e.what();
    }
}

TEST(SentencePieceTokenizer, CorruptModelIsAConfigError) {
    testkit::TempDir tmp;
    testkit::write_text(tmp / "spiece.model", "this is not a protobuf \x01\x02\x03 at all");
    try {
        SentencePieceTokenizer::load(tmp / "spiece.model");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(std::string(e.what()).find("spiece.model"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace vmeval::tokenizers
