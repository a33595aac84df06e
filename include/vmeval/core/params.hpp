#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vmeval {

/// Model parameters given on the command line as `--param key=value`. Each model reads the keys it
/// knows with typed getters and rejects the rest, so a typo never goes unnoticed.
class Params {
public:
    Params() = default;
    /// Parses "key=value" strings; throws Error(Usage) on a malformed entry.
    static Params parse(const std::vector<std::string>& entries);

    void set(const std::string& key, const std::string& value) { values_[key] = value; }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    bool empty() const { return values_.empty(); }
    const std::map<std::string, std::string>& values() const { return values_; }

    /// Typed reads; throw Error(Usage) naming the key when the value does not parse or is out of range.
    int get_int(const std::string& key, int fallback, int min, int max) const;
    double get_double(const std::string& key, double fallback, double min, double max) const;
    std::string get_string(const std::string& key, const std::string& fallback) const;

    /// Throws Error(Usage) when a key outside `known` is present, naming the model and the keys it takes.
    void expect_only(const std::vector<std::string>& known, const std::string& model) const;

private:
    std::map<std::string, std::string> values_;
};

}  // namespace vmeval
