#pragma once

// The "normalizer" of a tokenizer.json: Unicode normal forms and lowercasing (ICU), Replace,
// Strip, Prepend and Sequence; CLIP's is Sequence[NFC, Replace(\s+ -> " "), Lowercase].

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vmeval::tokenizers::detail {

/// One normalization step of a tokenizer.json.
class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual std::string apply(const std::string& text) const = 0;
};

/// The normalizer `spec` describes (null: none); throws Error(Config) naming `where` and the
/// type for a normalizer this implementation does not know.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec, const std::string& where);

}  // namespace vmeval::tokenizers::detail
