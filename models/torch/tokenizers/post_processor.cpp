#include "models/torch/tokenizers/post_processor.hpp"

#include <nlohmann/json.hpp>

#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers::detail {

namespace {

using Json = nlohmann::json;

int64_t id_of_pair(const Json& pair, const std::string& where) {
    // Roberta/Bert store ["<token>", id].
    if (!pair.is_array() || pair.size() != 2) {
        throw Error(ErrorCode::Config, where + ": expected [token, id], got " + pair.dump());
    }
    return pair[1].get<int64_t>();
}

SpecialIds template_ids(const Json& spec, const std::string& where) {
    SpecialIds out;
    bool seen_sequence = false;
    for (const auto& item : spec.at("single")) {
        if (item.contains("Sequence")) {
            seen_sequence = true;
            continue;
        }
        const auto name = item.at("SpecialToken").at("id").get<std::string>();
        const auto& tokens = spec.at("special_tokens");
        if (!tokens.contains(name)) {
            throw Error(ErrorCode::Config,
                        where + ": template token \"" + name + "\" is missing from special_tokens");
        }
        auto& side = seen_sequence ? out.suffix : out.prefix;
        for (const auto& id : tokens.at(name).at("ids")) side.push_back(id.get<int64_t>());
    }
    return out;
}

}  // namespace

SpecialIds special_ids_of(const Json& spec, const std::string& where) {
    if (spec.is_null()) return {};
    const auto type = spec.at("type").get<std::string>();
    const std::string here = where + " post_processor " + type;
    if (type == "TemplateProcessing") return template_ids(spec, here);
    if (type == "RobertaProcessing" || type == "BertProcessing") {
        return {{id_of_pair(spec.at("cls"), here)}, {id_of_pair(spec.at("sep"), here)}};
    }
    if (type == "ByteLevel") return {};
    if (type == "Sequence") {
        SpecialIds out;
        for (const auto& step : spec.at("processors")) {
            // Each processor wraps what the previous ones produced.
            auto ids = special_ids_of(step, where);
            out.prefix.insert(out.prefix.begin(), ids.prefix.begin(), ids.prefix.end());
            out.suffix.insert(out.suffix.end(), ids.suffix.begin(), ids.suffix.end());
        }
        return out;
    }
    throw Error(ErrorCode::Config, where + ": post_processor type \"" + type +
                                       "\" is not supported (TemplateProcessing, "
                                       "RobertaProcessing, BertProcessing, ByteLevel, Sequence "
                                       "are)");
}

}  // namespace vmeval::tokenizers::detail
