#include "models/torch/tokenizers/clip_vocab_files.hpp"

#include <algorithm>
#include <fstream>

#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// CLIP's word pattern: contractions, letter runs, single digits, other symbol runs.
constexpr const char* kCLIPSplit = R"(<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|)"
                                   R"([\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)";

std::string special(const Json& config, const char* key, const char* fallback) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (it->is_object()) return it->value("content", std::string(fallback));
    return it->get<std::string>();
}

int64_t id_in(const Json& vocab, const std::string& token, const fs::path& file) {
    const auto it = vocab.find(token);
    if (it == vocab.end()) {
        throw Error(ErrorCode::Config, file.string() + " lacks the special token \"" + token +
                                           "\" that tokenizer_config.json names");
    }
    return it->get<int64_t>();
}

}  // namespace

Json clip_tokenizer_json(const fs::path& folder, const Json& config) {
    const fs::path vocab_file = folder / "vocab.json", merges_file = folder / "merges.txt";
    Json vocab;
    {
        std::ifstream in(vocab_file, std::ios::binary);
        if (!in) throw Error(ErrorCode::Config, "cannot open " + vocab_file.string());
        try {
            vocab = Json::parse(in);
        } catch (const Json::exception& e) {
            throw Error(ErrorCode::Config, vocab_file.string() + " is not valid JSON (" + e.what() +
                                               "); re-download it");
        }
    }
    Json merges = Json::array();
    {
        std::ifstream in(merges_file, std::ios::binary);
        if (!in) throw Error(ErrorCode::Config, "cannot open " + merges_file.string());
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            // The first line is a "#version: 0.2" header, not a merge.
            if (line.empty() || line.rfind("#version", 0) == 0) continue;
            merges.push_back(line);
        }
    }

    const auto bos = special(config, "bos_token", "<|startoftext|>");
    const auto eos = special(config, "eos_token", "<|endoftext|>");
    const auto unk = special(config, "unk_token", "<|endoftext|>");
    const auto pad = special(config, "pad_token", "<|endoftext|>");
    Json added = Json::array();
    for (const auto& token : {bos, eos, unk, pad}) {
        const bool seen = std::any_of(added.begin(), added.end(),
                                      [&](const Json& t) { return t.at("content") == token; });
        if (!seen) {
            added.push_back({{"id", id_in(vocab, token, vocab_file)},
                             {"content", token},
                             {"normalized", false},
                             {"special", true}});
        }
    }
    return {
        {"added_tokens", added},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           {{{"type", "NFC"}},
            {{"type", "Replace"}, {"pattern", {{"Regex", R"(\s+)"}}}, {"content", " "}},
            {{"type", "Lowercase"}}}}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"},
             {"pattern", {{"Regex", kCLIPSplit}}},
             {"behavior", "Removed"},
             {"invert", true}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}}},
        {"model",
         {{"type", "BPE"},
          {"vocab", vocab},
          {"merges", merges},
          {"end_of_word_suffix", "</w>"},
          {"unk_token", unk},
          {"fuse_unk", false}}},
        {"post_processor",
         {{"type", "RobertaProcessing"},
          {"sep", {eos, id_in(vocab, eos, vocab_file)}},
          {"cls", {bos, id_in(vocab, bos, vocab_file)}}}},
    };
}

}  // namespace vmeval::tokenizers::detail
