#pragma once

// CLIP tokenizer folders that ship only vocab.json + merges.txt (HunyuanVideo's tokenizer_2,
// older Stable Diffusion repos): the tokenizer.json transformers' CLIPTokenizer would build.

#include <filesystem>
#include <nlohmann/json.hpp>

namespace vmeval::tokenizers::detail {

/// The tokenizer.json equivalent of `folder`'s vocab.json, merges.txt and the special tokens of
/// `config` (its tokenizer_config.json); throws Error(Config) naming a file it cannot read.
nlohmann::json clip_tokenizer_json(const std::filesystem::path& folder,
                                   const nlohmann::json& config);

}  // namespace vmeval::tokenizers::detail
