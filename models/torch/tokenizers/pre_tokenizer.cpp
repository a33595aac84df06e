#include "models/torch/tokenizers/pre_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "models/torch/tokenizers/unicode_regex.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace {

using Json = nlohmann::json;

// GPT-2's pre-tokenization regex, which ByteLevel applies when use_regex is true.
constexpr const char* kGPT2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behavior_of(const std::string& name, const std::string& where) {
    if (name == "Removed") return Behavior::Removed;
    if (name == "Isolated") return Behavior::Isolated;
    if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (name == "MergedWithNext") return Behavior::MergedWithNext;
    if (name == "Contiguous") return Behavior::Contiguous;
    throw Error(ErrorCode::Config, where + ": Split behavior \"" + name + "\" is unknown");
}

struct Span {
    size_t begin, end;
    bool delimiter;
};

/// Cuts `text` at the matches of `regex` and arranges the delimiters as tokenizers' Split does.
std::vector<std::string> split(const std::string& text, const UnicodeRegex& regex,
                               Behavior behavior, bool invert) {
    std::vector<Span> spans;
    size_t last = 0;
    for (const auto& [begin, end] : regex.find_all(text)) {
        if (begin > last) spans.push_back({last, begin, invert});
        spans.push_back({begin, end, !invert});
        last = end;
    }
    if (last < text.size()) spans.push_back({last, text.size(), invert});

    std::vector<Span> kept;
    bool previous_delimiter = false;
    switch (behavior) {
        case Behavior::Removed:
            for (const auto& s : spans) {
                if (!s.delimiter) kept.push_back(s);
            }
            break;
        case Behavior::Isolated:
            kept = spans;
            break;
        case Behavior::MergedWithPrevious:
            // A delimiter joins the piece before it, unless that piece was a delimiter too.
            for (const auto& s : spans) {
                if (s.delimiter && !previous_delimiter && !kept.empty()) {
                    kept.back().end = s.end;
                } else {
                    kept.push_back(s);
                }
                previous_delimiter = s.delimiter;
            }
            break;
        case Behavior::MergedWithNext:
            for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
                if (it->delimiter && !previous_delimiter && !kept.empty()) {
                    kept.back().begin = it->begin;
                } else {
                    kept.push_back(*it);
                }
                previous_delimiter = it->delimiter;
            }
            std::reverse(kept.begin(), kept.end());
            break;
        case Behavior::Contiguous:
            for (size_t i = 0; i < spans.size(); ++i) {
                if (i > 0 && spans[i].delimiter && spans[i - 1].delimiter) {
                    kept.back().end = spans[i].end;
                } else {
                    kept.push_back(spans[i]);
                }
            }
            break;
    }
    std::vector<std::string> out;
    out.reserve(kept.size());
    for (const auto& s : kept) {
        if (s.end > s.begin) out.push_back(text.substr(s.begin, s.end - s.begin));
    }
    return out;
}

class Split : public PreTokenizer {
public:
    Split(UnicodeRegex regex, Behavior behavior, bool invert)
        : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
    void apply(std::vector<std::string>& pieces) const override {
        std::vector<std::string> out;
        for (const auto& piece : pieces) {
            for (auto& part : split(piece, regex_, behavior_, invert_))
                out.push_back(std::move(part));
        }
        pieces = std::move(out);
    }

private:
    UnicodeRegex regex_;
    Behavior behavior_;
    bool invert_;
};

class ByteLevel : public PreTokenizer {
public:
    ByteLevel(bool add_prefix_space, bool use_regex, const std::string& where)
        : add_prefix_space_(add_prefix_space),
          regex_(use_regex ? std::make_unique<UnicodeRegex>(kGPT2Pattern, where) : nullptr) {}
    void apply(std::vector<std::string>& pieces) const override {
        std::vector<std::string> out;
        for (auto piece : pieces) {
            if (piece.empty()) continue;
            if (add_prefix_space_ && piece.front() != ' ') piece.insert(piece.begin(), ' ');
            if (regex_) {
                for (auto& part : split(piece, *regex_, Behavior::Isolated, false)) {
                    out.push_back(byte_level_encode(part));
                }
            } else {
                out.push_back(byte_level_encode(piece));
            }
        }
        pieces = std::move(out);
    }

private:
    bool add_prefix_space_;
    std::unique_ptr<UnicodeRegex> regex_;
};

class Sequence : public PreTokenizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps)
        : steps_(std::move(steps)) {}
    void apply(std::vector<std::string>& pieces) const override {
        for (const auto& step : steps_) step->apply(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

std::unique_ptr<PreTokenizer> regex_split(const char* pattern, Behavior behavior, bool invert,
                                          const std::string& where) {
    return std::make_unique<Split>(UnicodeRegex(pattern, where), behavior, invert);
}

}  // namespace

std::string byte_level_encode(const std::string& bytes) {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const int code = printable ? b : next++;
            // Every code point here is below U+0800: one or two UTF-8 bytes.
            if (code < 0x80) {
                t[b] = std::string(1, static_cast<char>(code));
            } else {
                t[b] = {static_cast<char>(0xC0 | (code >> 6)),
                        static_cast<char>(0x80 | (code & 0x3F))};
            }
        }
        return t;
    }();
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) out += table[static_cast<unsigned char>(c)];
    return out;
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& spec, const std::string& where) {
    if (spec.is_null()) return nullptr;
    const auto type = spec.at("type").get<std::string>();
    const std::string here = where + " pre_tokenizer " + type;
    if (type == "Split") {
        return std::make_unique<Split>(pattern_of(spec.at("pattern"), here),
                                       behavior_of(spec.at("behavior").get<std::string>(), here),
                                       spec.value("invert", false));
    }
    if (type == "ByteLevel") {
        return std::make_unique<ByteLevel>(spec.value("add_prefix_space", true),
                                           spec.value("use_regex", true), here);
    }
    if (type == "Whitespace") return regex_split(R"(\w+|[^\w\s]+)", Behavior::Removed, true, here);
    if (type == "WhitespaceSplit") return regex_split(R"(\s+)", Behavior::Removed, false, here);
    if (type == "Digits") {
        const bool single = spec.value("individual_digits", false);
        return regex_split(single ? R"(\p{N})" : R"(\p{N}+)", Behavior::Isolated, false, here);
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const auto& step : spec.at("pretokenizers")) {
            if (auto p = make_pre_tokenizer(step, where)) steps.push_back(std::move(p));
        }
        return std::make_unique<Sequence>(std::move(steps));
    }
    throw Error(ErrorCode::Config, where + ": pre_tokenizer type \"" + type +
                                       "\" is not supported (Split, ByteLevel, Whitespace, "
                                       "WhitespaceSplit, Digits, Sequence are)");
}

}  // namespace vmeval::tokenizers::detail
