#pragma once

// diffusers and transformers configuration files: `model_index.json` at a pipeline's root and each
// component's `config.json` / `scheduler_config.json`. Typed config structs per component read
// their fields through ConfigFile, so a wrong or missing value names the file and the key.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vmeval::nn {

class ConfigFile {
public:
    /// Reads and parses `path`; throws Error(Config) naming the file when it is absent or not JSON.
    static ConfigFile load(const std::filesystem::path& path);
    ConfigFile(nlohmann::json json, std::filesystem::path path) : json_(std::move(json)), path_(std::move(path)) {}

    const nlohmann::json& json() const { return json_; }
    const std::filesystem::path& path() const { return path_; }
    bool has(const std::string& key) const { return json_.contains(key) && !json_.at(key).is_null(); }

    /// The value of a required key; throws Error(Config) "<file>: '<key>' ..." when absent or of
    /// another type.
    template <class T>
    T get(const std::string& key) const;
    /// The value of an optional key, `fallback` when absent or null.
    template <class T>
    T get(const std::string& key, const T& fallback) const {
        return has(key) ? get<T>(key) : fallback;
    }
    /// "_class_name" (diffusers) or the first of "architectures" (transformers).
    std::string class_name() const;

private:
    nlohmann::json json_;
    std::filesystem::path path_;
};

/// `model_index.json`: component name → [library, class], for a pipeline folder.
struct ModelIndex {
    std::filesystem::path root;
    std::string pipeline_class;  ///< "_class_name"
    std::map<std::string, std::pair<std::string, std::string>> components;

    static ModelIndex load(const std::filesystem::path& root);
    /// Throws Error(Config) naming the folder and listing what is missing when a required component
    /// is not listed or its folder is absent.
    void require(const std::vector<std::string>& names) const;
    std::filesystem::path dir(const std::string& component) const { return root / component; }
};

}  // namespace vmeval::nn
