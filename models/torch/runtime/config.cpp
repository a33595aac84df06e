#include "models/torch/runtime/config.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace fs = std::filesystem;

ConfigFile ConfigFile::load(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorCode::Config, path.string() + ": cannot read the file (is the model folder complete?)");
    std::stringstream text;
    text << in.rdbuf();
    auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object())
        throw Error(ErrorCode::Config, path.string() + ": not a JSON object");
    return ConfigFile(std::move(json), path);
}

namespace {

template <class T>
const char* type_name();
template <> const char* type_name<bool>() { return "a boolean"; }
template <> const char* type_name<int>() { return "an integer"; }
template <> const char* type_name<std::int64_t>() { return "an integer"; }
template <> const char* type_name<double>() { return "a number"; }
template <> const char* type_name<std::string>() { return "a string"; }
template <> const char* type_name<std::vector<int>>() { return "a list of integers"; }
template <> const char* type_name<std::vector<std::int64_t>>() { return "a list of integers"; }
template <> const char* type_name<std::vector<double>>() { return "a list of numbers"; }
template <> const char* type_name<std::vector<std::string>>() { return "a list of strings"; }

template <class T>
bool fits(const nlohmann::json& v) {
    if constexpr (std::is_same_v<T, bool>) return v.is_boolean();
    else if constexpr (std::is_integral_v<T>) return v.is_number_integer();
    else if constexpr (std::is_floating_point_v<T>) return v.is_number();
    else if constexpr (std::is_same_v<T, std::string>) return v.is_string();
    else {
        if (!v.is_array()) return false;
        for (const auto& e : v)
            if (!fits<typename T::value_type>(e)) return false;
        return true;
    }
}

}  // namespace

template <class T>
T ConfigFile::get(const std::string& key) const {
    if (!has(key)) throw Error(ErrorCode::Config, path_.string() + ": required key '" + key + "' is missing");
    const auto& v = json_.at(key);
    if (!fits<T>(v))
        throw Error(ErrorCode::Config, path_.string() + ": '" + key + "' must be " + type_name<T>() + ", found " + v.dump());
    return v.get<T>();
}

template bool ConfigFile::get<bool>(const std::string&) const;
template int ConfigFile::get<int>(const std::string&) const;
template std::int64_t ConfigFile::get<std::int64_t>(const std::string&) const;
template double ConfigFile::get<double>(const std::string&) const;
template std::string ConfigFile::get<std::string>(const std::string&) const;
template std::vector<int> ConfigFile::get<std::vector<int>>(const std::string&) const;
template std::vector<std::int64_t> ConfigFile::get<std::vector<std::int64_t>>(const std::string&) const;
template std::vector<double> ConfigFile::get<std::vector<double>>(const std::string&) const;
template std::vector<std::string> ConfigFile::get<std::vector<std::string>>(const std::string&) const;

std::string ConfigFile::class_name() const {
    if (has("_class_name") && json_["_class_name"].is_string()) return json_["_class_name"];
    if (has("architectures") && json_["architectures"].is_array() && !json_["architectures"].empty() &&
        json_["architectures"][0].is_string())
        return json_["architectures"][0];
    return "";
}

ModelIndex ModelIndex::load(const fs::path& root) {
    auto file = ConfigFile::load(root / "model_index.json");
    ModelIndex index;
    index.root = root;
    index.pipeline_class = file.class_name();
    for (const auto& [key, value] : file.json().items()) {
        if (key.empty() || key[0] == '_') continue;
        // Components are [library, class]; [null, null] marks an optional component left out.
        if (value.is_array() && value.size() == 2 && value[0].is_string() && value[1].is_string())
            index.components[key] = {value[0].get<std::string>(), value[1].get<std::string>()};
    }
    return index;
}

void ModelIndex::require(const std::vector<std::string>& names) const {
    std::string missing;
    for (const auto& n : names)
        if (!components.count(n) || !fs::is_directory(root / n)) missing += (missing.empty() ? "" : ", ") + n;
    if (!missing.empty())
        throw Error(ErrorCode::Config, root.string() + ": the pipeline folder lacks " + missing +
                                           " (model_index.json entry and subfolder); download the whole repository");
}

}  // namespace vmeval::nn
