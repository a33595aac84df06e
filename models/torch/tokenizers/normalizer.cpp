#include "models/torch/tokenizers/normalizer.hpp"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "models/torch/tokenizers/unicode_regex.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace {

using Json = nlohmann::json;

enum class Form { NFC, NFD, NFKC, NFKD };

class UnicodeForm : public Normalizer {
public:
    explicit UnicodeForm(Form form) : form_(form) {}
    std::string apply(const std::string& text) const override {
        UErrorCode status = U_ZERO_ERROR;
        const icu::Normalizer2* n = nullptr;
        switch (form_) {
            case Form::NFC:
                n = icu::Normalizer2::getNFCInstance(status);
                break;
            case Form::NFD:
                n = icu::Normalizer2::getNFDInstance(status);
                break;
            case Form::NFKC:
                n = icu::Normalizer2::getNFKCInstance(status);
                break;
            case Form::NFKD:
                n = icu::Normalizer2::getNFKDInstance(status);
                break;
        }
        icu::UnicodeString out;
        if (U_SUCCESS(status)) out = n->normalize(icu::UnicodeString::fromUTF8(text), status);
        if (U_FAILURE(status)) {
            throw Error(ErrorCode::Internal,
                        std::string("ICU Unicode normalization failed: ") + u_errorName(status));
        }
        std::string utf8;
        return out.toUTF8String(utf8);
    }

private:
    Form form_;
};

class Lowercase : public Normalizer {
public:
    std::string apply(const std::string& text) const override {
        // The tokenizers library lowercases one character at a time (Rust's char::to_lowercase):
        // full mappings such as İ -> i̇ apply but context rules do not (a final Σ becomes σ, not
        // ς), so each code point is mapped on its own with the locale-free root rules.
        const auto u = icu::UnicodeString::fromUTF8(text);
        icu::UnicodeString out;
        for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
            icu::UnicodeString one(u.char32At(i));
            out += one.toLower(icu::Locale::getRoot());
        }
        std::string utf8;
        return out.toUTF8String(utf8);
    }
};

class Replace : public Normalizer {
public:
    Replace(UnicodeRegex pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    std::string apply(const std::string& text) const override {
        return pattern_.replace_all(text, content_);
    }

private:
    UnicodeRegex pattern_;
    std::string content_;
};

bool is_space(char32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

class Strip : public Normalizer {
public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    std::string apply(const std::string& text) const override {
        auto u = icu::UnicodeString::fromUTF8(text);
        int32_t begin = 0, end = u.length();
        while (left_ && begin < end && is_space(u.char32At(begin))) begin = u.moveIndex32(begin, 1);
        while (right_ && end > begin) {
            const int32_t prev = u.moveIndex32(end, -1);
            if (!is_space(u.char32At(prev))) break;
            end = prev;
        }
        std::string utf8;
        return u.tempSubStringBetween(begin, end).toUTF8String(utf8);
    }

private:
    bool left_, right_;
};

class Prepend : public Normalizer {
public:
    explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string apply(const std::string& text) const override {
        return text.empty() ? text : prefix_ + text;
    }

private:
    std::string prefix_;
};

class Sequence : public Normalizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
    std::string apply(const std::string& text) const override {
        std::string out = text;
        for (const auto& step : steps_) out = step->apply(out);
        return out;
    }

private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& spec, const std::string& where) {
    if (spec.is_null()) return nullptr;
    const auto type = spec.at("type").get<std::string>();
    if (type == "NFC") return std::make_unique<UnicodeForm>(Form::NFC);
    if (type == "NFD") return std::make_unique<UnicodeForm>(Form::NFD);
    if (type == "NFKC") return std::make_unique<UnicodeForm>(Form::NFKC);
    if (type == "NFKD") return std::make_unique<UnicodeForm>(Form::NFKD);
    if (type == "Lowercase") return std::make_unique<Lowercase>();
    if (type == "Replace") {
        return std::make_unique<Replace>(
            pattern_of(spec.at("pattern"), where + " normalizer Replace"),
            spec.at("content").get<std::string>());
    }
    if (type == "Strip") {
        return std::make_unique<Strip>(spec.value("strip_left", true),
                                       spec.value("strip_right", true));
    }
    if (type == "Prepend") return std::make_unique<Prepend>(spec.at("prepend").get<std::string>());
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (const auto& step : spec.at("normalizers")) {
            if (auto n = make_normalizer(step, where)) steps.push_back(std::move(n));
        }
        return std::make_unique<Sequence>(std::move(steps));
    }
    throw Error(ErrorCode::Config, where + ": normalizer type \"" + type +
                                       "\" is not supported (NFC, NFD, NFKC, NFKD, Lowercase, "
                                       "Replace, Strip, Prepend, Sequence are)");
}

}  // namespace vmeval::tokenizers::detail
