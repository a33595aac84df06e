#include "vmeval/core/params.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "vmeval/core/error.hpp"

namespace vmeval {

Params Params::parse(const std::vector<std::string>& entries) {
    Params p;
    for (const auto& e : entries) {
        auto eq = e.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw Error(ErrorCode::Usage,
                        "--param '" + e + "' is not key=value (for example --param frames=24)");
        }
        p.values_[e.substr(0, eq)] = e.substr(eq + 1);
    }
    return p;
}

int Params::get_int(const std::string& key, int fallback, int min, int max) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || v < min || v > max) {
        throw Error(ErrorCode::Usage, "--param " + key + "=" + s + ": expected a whole number from " +
                                          std::to_string(min) + " to " + std::to_string(max));
    }
    return static_cast<int>(v);
}

double Params::get_double(const std::string& key, double fallback, double min, double max) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v < min || v > max) {
        char range[96];
        std::snprintf(range, sizeof range, "expected a number from %g to %g", min, max);
        throw Error(ErrorCode::Usage, "--param " + key + "=" + s + ": " + range);
    }
    return v;
}

std::string Params::get_string(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
}

void Params::expect_only(const std::vector<std::string>& known, const std::string& model) const {
    for (const auto& [key, value] : values_) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw Error(ErrorCode::Usage, "model " + model + " takes no parameter '" + key + "'" +
                                          (known.empty() ? std::string(" (it takes none)")
                                                         : " (it takes: " + list + ")"));
    }
}

}  // namespace vmeval
