#pragma once

// Viterbi segmentation of SentencePiece unigram models (T5, umT5). Debian's libsentencepiece
// 0.1.97 breaks exact score ties (e.g. "---" as "-" + "--" or "--" + "-") differently from
// transformers' tokenizers backend and sentencepiece 0.2, so the segmentation is done here with
// their rule: scan start positions left to right, keep the first path reaching an end with the
// best score (scores summed in double, as the tokenizers library does). Byte fallback is not
// applied: transformers' T5 tokenizers (v4 fast converter and v5) drop it, so a character
// outside the vocabulary is <unk> even in a model trained with byte pieces (umT5).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace vmeval::tokenizers::detail {

/// The scored pieces of a unigram model.
class UnigramLattice {
public:
    /// Adds a piece that text can be segmented into.
    void add(const std::string& piece, int64_t id, double score);
    /// unk gets `min_score - 10` as in sentencepiece.
    void finish(int64_t unk_id, double min_score);

    /// Segments `normalized` (SentencePiece's normalized text, "▁" for spaces), fusing runs of
    /// unknown characters into one unk as both reference implementations do.
    std::vector<int64_t> segment(const std::string& normalized) const;

private:
    struct Piece {
        int64_t id;
        double score;
    };
    std::unordered_map<std::string, Piece> pieces_;
    size_t longest_ = 0;
    int64_t unk_id_ = 0;
    double unk_score_ = 0;
};

/// The model_type of a serialized SentencePiece ModelProto (1 unigram, 2 BPE, 3 word, 4 char);
/// 1 (the proto default) when the field is absent or the bytes cannot be read.
int sentencepiece_model_type(const std::string& serialized_proto);

}  // namespace vmeval::tokenizers::detail
