#include <algorithm>
#include <cctype>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "vmeval/http/http.hpp"

namespace vmeval::http {

namespace {

constexpr std::size_t kMinSecretLength = 4;
constexpr std::string_view kMask = "[REDACTED]";

struct Secrets {
    std::mutex mutex;
    std::vector<std::string> values;
};

Secrets& secrets() {
    // Never destroyed, so that loggers running during static destruction can still redact.
    static Secrets* s = new Secrets;
    return *s;
}

}  // namespace

void add_secret(const std::string& value) {
    // Very short values would mask ordinary words ("abc") and protect nothing.
    if (value.size() < kMinSecretLength) return;
    Secrets& s = secrets();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (std::find(s.values.begin(), s.values.end(), value) != s.values.end()) return;
    s.values.push_back(value);
    std::stable_sort(
        s.values.begin(), s.values.end(),
        [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string redact(std::string_view text) {
    Secrets& s = secrets();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.values.empty() || text.empty()) return std::string(text);

    // Mark every byte covered by any occurrence of any secret, then mask each covered run once.
    // Replacing one secret after another would leave the tail of a secret that overlaps another
    // one already replaced ("abcdef" + "defghi" in "abcdefghi" must not leave "ghi").
    std::vector<bool> covered(text.size(), false);
    bool any = false;
    for (const std::string& secret : s.values) {
        for (std::size_t pos = text.find(secret); pos != std::string_view::npos;
             pos = text.find(secret, pos + 1)) {
            std::fill(covered.begin() + static_cast<std::ptrdiff_t>(pos),
                      covered.begin() + static_cast<std::ptrdiff_t>(pos + secret.size()), true);
            any = true;
        }
    }
    if (!any) return std::string(text);

    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (!covered[i]) {
            out.push_back(text[i++]);
            continue;
        }
        out += kMask;
        while (i < text.size() && covered[i]) ++i;
    }
    return out;
}

std::string describe(const Request& request) {
    std::string_view url = request.url;
    // The query string and the fragment may carry keys ("?key=..."): keep only scheme, host, path.
    url = url.substr(0, std::min(url.find('?'), url.find('#')));

    std::string cleaned;
    std::size_t scheme_end = url.find("://");
    std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    std::size_t authority_end = url.find('/', authority_start);
    if (authority_end == std::string_view::npos) authority_end = url.size();
    std::string_view authority = url.substr(authority_start, authority_end - authority_start);
    std::size_t at = authority.rfind('@');
    cleaned.append(url.substr(0, authority_start));
    // "user:password@host" is a credential too.
    cleaned.append(at == std::string_view::npos ? authority : authority.substr(at + 1));
    cleaned.append(url.substr(authority_end));

    std::string method = request.method.empty() ? "GET" : request.method;
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return redact(method + " " + cleaned);
}

}  // namespace vmeval::http
