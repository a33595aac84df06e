#include "models/torch/tokenizers/added_tokens.hpp"

#include <cctype>

namespace vmeval::tokenizers::detail {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Bytes of non-ASCII characters count as word characters: letters in most scripts.
bool is_word(char c) {
    const auto b = static_cast<unsigned char>(c);
    return b >= 0x80 || std::isalnum(b) != 0 || c == '_';
}

struct Match {
    size_t begin = std::string::npos, end = 0;
    const AddedToken* token = nullptr;
};

}  // namespace

std::vector<Segment> AddedTokenMatcher::split(const std::string& text) const {
    std::vector<Segment> out;
    size_t pos = 0;
    while (pos < text.size()) {
        Match best;
        for (const auto& token : tokens_) {
            if (token.content.empty()) continue;
            for (size_t at = text.find(token.content, pos); at != std::string::npos;
                 at = text.find(token.content, at + 1)) {
                const size_t end = at + token.content.size();
                if (token.single_word && ((at > 0 && is_word(text[at - 1])) ||
                                          (end < text.size() && is_word(text[end])))) {
                    continue;
                }
                if (at < best.begin || (at == best.begin && end > best.end)) {
                    best = {at, end, &token};
                }
                break;
            }
        }
        if (!best.token) break;
        size_t begin = best.begin, end = best.end;
        if (best.token->lstrip) {
            while (begin > pos && is_space(text[begin - 1])) --begin;
        }
        if (best.token->rstrip) {
            while (end < text.size() && is_space(text[end])) ++end;
        }
        if (begin > pos) out.push_back({text.substr(pos, begin - pos), std::nullopt});
        out.push_back({best.token->content, best.token->id});
        pos = end;
    }
    if (pos < text.size()) out.push_back({text.substr(pos), std::nullopt});
    return out;
}

}  // namespace vmeval::tokenizers::detail
