#pragma once

// The "post_processor" of a tokenizer.json reduced to what a single prompt needs: the special
// ids placed before and after its tokens (TemplateProcessing, RobertaProcessing,
// BertProcessing; ByteLevel adds none; Sequence chains them).

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace vmeval::tokenizers::detail {

/// Special ids around one sequence.
struct SpecialIds {
    std::vector<int64_t> prefix;
    std::vector<int64_t> suffix;
};

/// Reads `spec` (null: no special tokens); throws Error(Config) naming `where` and the type for
/// a post-processor this implementation does not know.
SpecialIds special_ids_of(const nlohmann::json& spec, const std::string& where);

}  // namespace vmeval::tokenizers::detail
