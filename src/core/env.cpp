#include "vmeval/core/env.hpp"

#include <cstdlib>
#include <sstream>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"

namespace vmeval {

namespace {

std::string trim(const std::string& s) {
    const char* ws = " \t\r";
    auto b = s.find_first_not_of(ws);
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

bool valid_name(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> load_dotenv(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};
    std::istringstream in(fs_util::read_file(path));
    std::vector<std::string> set_names;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
        auto eq = t.find('=');
        std::string where = path.string() + ":" + std::to_string(lineno);
        if (eq == std::string::npos) {
            throw Error(ErrorCode::Config, where + ": expected NAME=value");
        }
        std::string name = trim(t.substr(0, eq));
        std::string value = trim(t.substr(eq + 1));
        if (!valid_name(name)) throw Error(ErrorCode::Config, where + ": '" + name + "' is not a variable name");
        if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
            char q = value[0];
            auto close = value.find(q, 1);
            // The value itself is never echoed: it may be a secret.
            if (close == std::string::npos) throw Error(ErrorCode::Config, where + ": unterminated quote");
            value = value.substr(1, close - 1);
        } else {
            auto hash = value.find(" #");
            if (hash != std::string::npos) value = trim(value.substr(0, hash));
        }
        const char* existing = std::getenv(name.c_str());
        if (existing != nullptr) continue;
        ::setenv(name.c_str(), value.c_str(), 0);
        set_names.push_back(name);
    }
    return set_names;
}

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

}  // namespace vmeval
