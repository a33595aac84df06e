#include "models/torch/tokenizers/unigram.hpp"

#include <algorithm>
#include <optional>

namespace vmeval::tokenizers::detail {

namespace {

// sentencepiece's kUnkPenalty: unknown characters cost this much below the rarest piece.
constexpr double kUnkPenalty = 10.0;

size_t utf8_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead >> 5) == 0x6) return 2;
    if ((lead >> 4) == 0xE) return 3;
    return 4;
}

}  // namespace

void UnigramLattice::add(const std::string& piece, int64_t id, double score) {
    if (piece.empty()) return;
    pieces_.emplace(piece, Piece{id, score});
    longest_ = std::max(longest_, piece.size());
}

void UnigramLattice::finish(int64_t unk_id, double min_score) {
    unk_id_ = unk_id;
    unk_score_ = min_score - kUnkPenalty;
}

std::vector<int64_t> UnigramLattice::segment(const std::string& text) const {
    struct Best {
        std::optional<size_t> start;  ///< where the last piece of the best path begins
        int64_t id = 0;
        double score = 0;
    };
    const size_t n = text.size();
    std::vector<Best> best(n + 1);
    best[0].start = 0;
    for (size_t start = 0; start < n;) {
        const size_t char_len =
            std::min(utf8_length(static_cast<unsigned char>(text[start])), n - start);
        const double here = best[start].score;
        bool whole_char = false;
        auto offer = [&](size_t end, int64_t id, double score) {
            Best& target = best[end];
            // Strictly better only: the first path found (the earliest split) wins ties.
            if (!target.start || here + score > target.score) target = {start, id, here + score};
        };
        for (size_t len = 1; len <= longest_ && start + len <= n; ++len) {
            const auto it = pieces_.find(text.substr(start, len));
            if (it == pieces_.end()) continue;
            offer(start + len, it->second.id, it->second.score);
            if (len == char_len) whole_char = true;
        }
        if (!whole_char) offer(start + char_len, unk_id_, unk_score_);
        start += char_len;
    }

    // Walk back from the end, then restore reading order, fusing runs of unknowns.
    std::vector<int64_t> ids;
    for (size_t end = n; end > 0; end = *best[end].start) {
        const int64_t id = best[end].id;
        if (!(id == unk_id_ && !ids.empty() && ids.back() == unk_id_)) ids.push_back(id);
    }
    std::reverse(ids.begin(), ids.end());
    return ids;
}

namespace {

bool read_varint(const std::string& s, size_t& pos, uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && pos < s.size(); shift += 7) {
        const auto byte = static_cast<unsigned char>(s[pos++]);
        value |= static_cast<uint64_t>(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return true;
    }
    return false;
}

/// Finds field `field` in a serialized message: its varint value (wire type 0) or the byte
/// range of its payload (wire type 2). Returns false when absent or malformed.
bool find_field(const std::string& s, uint64_t field, uint64_t& value, std::string* payload) {
    size_t pos = 0;
    while (pos < s.size()) {
        uint64_t tag = 0;
        if (!read_varint(s, pos, tag)) return false;
        const uint64_t wire = tag & 7, number = tag >> 3;
        uint64_t v = 0;
        switch (wire) {
            case 0:
                if (!read_varint(s, pos, v)) return false;
                if (number == field && !payload) {
                    value = v;
                    return true;
                }
                break;
            case 1:
                pos += 8;
                break;
            case 5:
                pos += 4;
                break;
            case 2:
                if (!read_varint(s, pos, v) || v > s.size() - pos) return false;
                if (number == field && payload) {
                    *payload = s.substr(pos, v);
                    return true;
                }
                pos += v;
                break;
            default:
                return false;
        }
    }
    return false;
}

}  // namespace

int sentencepiece_model_type(const std::string& proto) {
    // ModelProto.trainer_spec = 2; TrainerSpec.model_type = 3.
    std::string trainer;
    uint64_t type = 1;
    if (!find_field(proto, 2, type, &trainer)) return 1;
    if (!find_field(trainer, 3, type, nullptr)) return 1;
    return static_cast<int>(type);
}

}  // namespace vmeval::tokenizers::detail
