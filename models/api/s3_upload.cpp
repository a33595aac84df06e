// AWS Signature Version 4 for S3 (header and query-string forms), the checks an S3 server makes,
// and the two ways of giving a provider a public image URL. References: AWS's "Authenticating
// Requests (AWS Signature Version 4)" pages for S3; their worked examples are the unit tests.

#include "models/api/s3_upload.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <system_error>

#include "models/api/api_model.hpp"
#include "src/mock/prefixes.hpp"
#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/url.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/core/hash.hpp"

namespace vmeval::api::s3 {

namespace {

constexpr const char* kAlgorithm = "AWS4-HMAC-SHA256";
constexpr long kMaxPresignS = 7 * 24 * 3600;  // S3's limit for SigV4 presigned URLs
constexpr long kMaxSkewS = 15 * 60;           // S3 refuses header-signed requests older than this

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

/// Canonical header value: outer blanks trimmed, inner runs of blanks collapsed to one.
std::string canonical_value(const std::string& v) {
    std::string out;
    bool blank = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            blank = !out.empty();
            continue;
        }
        if (blank) out += ' ';
        blank = false;
        out += c;
    }
    return out;
}

/// 20130524T000000Z -> time; -1 when malformed.
std::time_t parse_amz_date(const std::string& s) {
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return -1;
    std::tm tm{};
    if (std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return ::timegm(&tm);
}

std::string value_of(const std::vector<std::pair<std::string, std::string>>& params,
                     const std::string& name) {
    for (const auto& [n, v] : params) {
        if (n == name) return v;
    }
    return "";
}

/// "AK/20130524/us-east-1/s3/aws4_request" -> {AK, date, region, service}; empty when malformed.
std::vector<std::string> split_credential(const std::string& credential) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (parts.size() < 5) {
        size_t slash = credential.find('/', pos);
        parts.push_back(
            credential.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
        if (slash == std::string::npos) break;
        pos = slash + 1;
    }
    if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty()) return {};
    return parts;
}

std::string join_path(std::string base, const std::string& rest) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + rest;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
             &len) == nullptr) {
        throw Error(ErrorCode::Internal, "HMAC-SHA256 failed in OpenSSL");
    }
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_hex(std::string_view bytes) {
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

std::string uri_encode(std::string_view text, bool encode_slash) { return percent_encode(text, !encode_slash); }

std::string percent_decode(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() &&
            std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string amz_date(std::time_t t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

UrlParts split_url(const std::string& url) {
    UrlParts p;
    size_t scheme_end = url.find("://");
    if (scheme_end != std::string::npos) p.scheme = lower(url.substr(0, scheme_end));
    if (p.scheme != "http" && p.scheme != "https") {
        throw Error(ErrorCode::Config, "'" + http::redact(url) + "' is not an http(s) URL");
    }
    size_t host_start = scheme_end + 3;
    size_t path_start = url.find_first_of("/?#", host_start);
    p.host = lower(url.substr(
        host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start));
    if (p.host.empty() || p.host.find('@') != std::string::npos) {
        throw Error(ErrorCode::Config, "'" + http::redact(url) + "' has no usable host");
    }
    // libcurl leaves the scheme's default port out of the Host header, so the signature must too.
    const std::string default_port = p.scheme == "https" ? ":443" : ":80";
    if (p.host.size() > default_port.size() &&
        p.host.compare(p.host.size() - default_port.size(), std::string::npos, default_port) == 0) {
        p.host.resize(p.host.size() - default_port.size());
    }
    std::string rest = path_start == std::string::npos ? "" : url.substr(path_start);
    rest = rest.substr(0, rest.find('#'));
    size_t q = rest.find('?');
    p.path = rest.substr(0, q);
    if (p.path.empty()) p.path = "/";
    if (q != std::string::npos) p.query = rest.substr(q + 1);
    return p;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t pos = 0;
    while (pos < raw.size()) {
        size_t amp = raw.find('&', pos);
        std::string_view item =
            raw.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        if (!item.empty()) {
            size_t eq = item.find('=');
            out.emplace_back(
                percent_decode(item.substr(0, eq)),
                eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& decoded,
                            std::string_view skip) {
    std::vector<std::pair<std::string, std::string>> enc;
    for (const auto& [n, v] : decoded) {
        if (!skip.empty() && n == skip) continue;
        enc.emplace_back(uri_encode(n, true), uri_encode(v, true));
    }
    std::sort(enc.begin(), enc.end());
    std::string out;
    for (const auto& [n, v] : enc) out += (out.empty() ? "" : "&") + n + "=" + v;
    return out;
}

Signature sign(const std::string& secret_key, const std::string& region, const std::string& service,
               const std::string& method, const std::string& canonical_uri,
               const std::string& canonical_query,
               const std::map<std::string, std::string>& headers, const std::string& payload_hash,
               const std::string& amz_date) {
    Signature s;
    std::string canonical_headers;
    for (const auto& [name, value] : headers) {
        canonical_headers += name + ":" + canonical_value(value) + "\n";
        s.signed_headers += (s.signed_headers.empty() ? "" : ";") + name;
    }
    s.canonical_request = method + "\n" + canonical_uri + "\n" + canonical_query + "\n" +
                          canonical_headers + "\n" + s.signed_headers + "\n" + payload_hash;
    const std::string date = amz_date.substr(0, 8);
    s.scope = date + "/" + region + "/" + service + "/aws4_request";
    s.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + s.scope + "\n" +
                       sha256_hex(s.canonical_request);
    std::string key = hmac_sha256("AWS4" + secret_key, date);
    key = hmac_sha256(key, region);
    key = hmac_sha256(key, service);
    key = hmac_sha256(key, "aws4_request");
    s.signature = to_hex(hmac_sha256(key, s.string_to_sign));
    return s;
}

http::Headers authorization_headers(const Credentials& c, const std::string& method,
                                    const std::string& url, const std::string& payload_hash,
                                    std::time_t now, const http::Headers& extra) {
    UrlParts u = split_url(url);
    const std::string date = amz_date(now);
    http::Headers out = extra;
    out.push_back({"x-amz-date", date});
    out.push_back({"x-amz-content-sha256", payload_hash});
    if (!c.session_token.empty()) out.push_back({"x-amz-security-token", c.session_token});
    std::map<std::string, std::string> signed_headers = {{"host", u.host}};
    for (const auto& h : out) signed_headers[lower(h.name)] = h.value;
    Signature s = sign(c.secret_key, c.region, "s3", method, u.path,
                       canonical_query(parse_query(u.query)), signed_headers, payload_hash, date);
    out.push_back({"Authorization", std::string(kAlgorithm) + " Credential=" + c.access_key + "/" +
                                        s.scope + ",SignedHeaders=" + s.signed_headers +
                                        ",Signature=" + s.signature});
    return out;
}

std::string presign(const Credentials& c, const std::string& method, const std::string& url,
                    long expires_s, std::time_t now) {
    UrlParts u = split_url(url);
    const std::string date = amz_date(now);
    auto params = parse_query(u.query);
    params.emplace_back("X-Amz-Algorithm", kAlgorithm);
    params.emplace_back("X-Amz-Credential", c.access_key + "/" + date.substr(0, 8) + "/" +
                                                c.region + "/s3/aws4_request");
    params.emplace_back("X-Amz-Date", date);
    params.emplace_back("X-Amz-Expires", std::to_string(std::clamp(expires_s, 1L, kMaxPresignS)));
    params.emplace_back("X-Amz-SignedHeaders", "host");
    if (!c.session_token.empty()) params.emplace_back("X-Amz-Security-Token", c.session_token);
    const std::string query = canonical_query(params);
    Signature s = sign(c.secret_key, c.region, "s3", method, u.path, query, {{"host", u.host}},
                       "UNSIGNED-PAYLOAD", date);
    return u.scheme + "://" + u.host + u.path + "?" + query + "&X-Amz-Signature=" + s.signature;
}

ServerKeys server_keys_from_environment() {
    return {env_or_empty("AWS_ACCESS_KEY_ID"), env_or_empty("AWS_SECRET_ACCESS_KEY")};
}

Verdict check_request(const std::string& method, const std::string& raw_path,
                      const std::string& raw_query,
                      const std::map<std::string, std::string>& headers, const std::string& body,
                      const ServerKeys& keys, std::time_t now) {
    auto header = [&](const std::string& name) {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    };
    auto params = parse_query(raw_query);
    const bool by_query = !value_of(params, "X-Amz-Signature").empty();
    const std::string authorization = header("authorization");
    if (!by_query && authorization.empty()) return {"AccessDenied", "Access Denied"};

    std::string credential, signed_list, signature, date, payload_hash;
    if (by_query) {
        for (const char* p : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                              "X-Amz-SignedHeaders"}) {
            if (value_of(params, p).empty()) {
                return {"AuthorizationQueryParametersError",
                        std::string("Query-string authentication version 4 requires the ") + p +
                            " parameter"};
            }
        }
        if (value_of(params, "X-Amz-Algorithm") != kAlgorithm) {
            return {"AuthorizationQueryParametersError",
                    "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""};
        }
        credential = value_of(params, "X-Amz-Credential");
        signed_list = value_of(params, "X-Amz-SignedHeaders");
        signature = value_of(params, "X-Amz-Signature");
        date = value_of(params, "X-Amz-Date");
        payload_hash = "UNSIGNED-PAYLOAD";
        long expires = std::atol(value_of(params, "X-Amz-Expires").c_str());
        if (expires < 1 || expires > kMaxPresignS) {
            return {"AuthorizationQueryParametersError",
                    "X-Amz-Expires must be between 1 and 604800 seconds"};
        }
        std::time_t signed_at = parse_amz_date(date);
        if (signed_at < 0) {
            return {"AuthorizationQueryParametersError",
                    "X-Amz-Date must be in the ISO8601 basic format"};
        }
        if (now > signed_at + expires) return {"AccessDenied", "Request has expired"};
    } else {
        const std::string prefix = std::string(kAlgorithm) + " ";
        if (authorization.rfind(prefix, 0) != 0) {
            return {"InvalidArgument", "Unsupported Authorization Type"};
        }
        // "Credential=..., SignedHeaders=..., Signature=..." with or without blanks after commas.
        std::string rest = authorization.substr(prefix.size());
        size_t pos = 0;
        while (pos < rest.size()) {
            size_t comma = rest.find(',', pos);
            std::string item = canonical_value(
                rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
            size_t eq = item.find('=');
            std::string name = item.substr(0, eq),
                        value = eq == std::string::npos ? "" : item.substr(eq + 1);
            if (name == "Credential") credential = value;
            if (name == "SignedHeaders") signed_list = value;
            if (name == "Signature") signature = value;
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        if (credential.empty() || signed_list.empty() || signature.empty()) {
            return {"AuthorizationHeaderMalformed", "The authorization header is malformed"};
        }
        date = header("x-amz-date");
        std::time_t signed_at = parse_amz_date(date);
        if (signed_at < 0) {
            return {"AccessDenied",
                    "AWS authentication requires a valid Date or x-amz-date header"};
        }
        if (std::labs(static_cast<long>(now - signed_at)) > kMaxSkewS) {
            return {"RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large."};
        }
        payload_hash = header("x-amz-content-sha256");
        if (payload_hash.empty()) {
            return {"InvalidRequest",
                    "Missing required header for this request: x-amz-content-sha256"};
        }
        const bool unsigned_ok = payload_hash == "UNSIGNED-PAYLOAD" && method != "PUT";
        if (!unsigned_ok && payload_hash != sha256_hex(body)) {
            return {"XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed."};
        }
        for (const auto& [name, value] : headers) {
            (void)value;
            if (name.rfind("x-amz-", 0) == 0 &&
                (";" + signed_list + ";").find(";" + name + ";") == std::string::npos) {
                return {"AccessDenied",
                        "There were headers present in the request which were not signed"};
            }
        }
    }

    std::vector<std::string> scope = split_credential(credential);
    if (scope.empty()) {
        return {"AuthorizationHeaderMalformed", "The credential is malformed: " + credential};
    }
    if (scope[3] != "s3" || scope[1] != date.substr(0, 8)) {
        return {"AuthorizationHeaderMalformed",
                "The credential scope does not match the request date or service"};
    }
    if (!keys.access_key.empty() && scope[0] != keys.access_key) {
        return {"InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records."};
    }
    if ((";" + signed_list + ";").find(";host;") == std::string::npos) {
        return {"AccessDenied", "The host header must be signed"};
    }
    if (keys.secret_key.empty()) return {};

    std::map<std::string, std::string> signed_headers;
    size_t pos = 0;
    while (pos <= signed_list.size()) {
        size_t semi = signed_list.find(';', pos);
        std::string name =
            signed_list.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
        if (!name.empty()) signed_headers[name] = header(name);
        if (semi == std::string::npos) break;
        pos = semi + 1;
    }
    Signature expected =
        sign(keys.secret_key, scope[2], "s3", method, raw_path,
             canonical_query(params, "X-Amz-Signature"), signed_headers, payload_hash, date);
    if (expected.signature != signature) {
        return {"SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method."};
    }
    return {};
}

std::string error_text(const std::string& body) {
    auto tag = [&](const std::string& name) {
        size_t b = body.find("<" + name + ">"), e = body.find("</" + name + ">");
        if (b == std::string::npos || e == std::string::npos || e < b) return std::string();
        b += name.size() + 2;
        return body.substr(b, e - b);
    };
    std::string code = tag("Code"), message = tag("Message");
    if (code.empty()) return "";
    return code + (message.empty() ? "" : ": " + message);
}

std::string Bucket::object_url(const std::string& key) const {
    const std::string path = uri_encode(key, false);
    if (!endpoint.empty()) return join_path(endpoint, uri_encode(name, true) + "/" + path);
    const std::string region = credentials.region;
    if (name.find('.') != std::string::npos) {
        return "https://s3." + region + ".amazonaws.com/" + name + "/" + path;
    }
    return "https://" + name + ".s3." + region + ".amazonaws.com/" + path;
}

std::optional<Bucket> bucket_from_environment(const std::string& model) {
    Bucket b;
    b.name = env_or_empty("AWS_S3_BUCKET");
    if (b.name.empty()) return std::nullopt;
    b.credentials.access_key = require_secret("AWS_ACCESS_KEY_ID", model);
    b.credentials.secret_key = require_secret("AWS_SECRET_ACCESS_KEY", model);
    b.credentials.session_token = env_or_empty("AWS_SESSION_TOKEN");
    if (!b.credentials.session_token.empty()) http::add_secret(b.credentials.session_token);
    for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
        if (!env_or_empty(var).empty()) {
            b.credentials.region = env_or_empty(var);
            break;
        }
    }
    for (const char* var : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
        if (!env_or_empty(var).empty()) {
            b.endpoint = env_or_empty(var);
            break;
        }
    }
    if (b.endpoint.empty() && !env_or_empty("VMEVAL_MOCK_API").empty()) {
        b.endpoint = env_or_empty("VMEVAL_MOCK_API") + mock::kS3Prefix;
    }
    // A malformed endpoint is refused now, not once per question.
    if (!b.endpoint.empty()) split_url(b.endpoint);
    return b;
}

http::Request put_object_request(const Bucket& bucket, const std::string& key,
                                 const std::string& bytes, const std::string& content_type,
                                 std::time_t now) {
    http::Request r;
    r.method = "PUT";
    r.url = bucket.object_url(key);
    r.body = bytes;
    r.headers = authorization_headers(bucket.credentials, "PUT", r.url, sha256_hex(bytes), now,
                                      {{"Content-Type", content_type}});
    return r;
}

http::Request delete_object_request(const Bucket& bucket, const std::string& key, std::time_t now) {
    http::Request r;
    r.method = "DELETE";
    r.url = bucket.object_url(key);
    r.headers = authorization_headers(bucket.credentials, "DELETE", r.url, kEmptySha256, now);
    return r;
}

std::string presigned_get(const Bucket& bucket, const std::string& key, long expires_s,
                          std::time_t now) {
    return presign(bucket.credentials, "GET", bucket.object_url(key), expires_s, now);
}

std::string unique_token() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return amz_date(std::time(nullptr)).substr(0, 15) + "-" + buf;
}

std::string PublicDir::place(const std::string& name, const std::string& bytes) const {
    // Through a temporary sibling: the web server never serves half a file.
    fs_util::write_file_atomic(dir / name, bytes);
    return join_path(base_url, uri_encode(name, true));
}

bool PublicDir::remove(const std::string& name) const {
    std::error_code ec;
    std::filesystem::remove(dir / name, ec);
    return !ec;
}

std::optional<PublicDir> public_dir_from_environment(const std::string& model) {
    const std::string dir = env_or_empty("VMEVAL_PUBLIC_IMAGE_DIR");
    const std::string url = env_or_empty("VMEVAL_PUBLIC_IMAGE_BASE_URL");
    if (dir.empty() && url.empty()) return std::nullopt;
    if (dir.empty() || url.empty()) {
        throw Error(ErrorCode::ModelUnavailable,
                    model +
                        ": VMEVAL_PUBLIC_IMAGE_DIR and VMEVAL_PUBLIC_IMAGE_BASE_URL go together (a "
                        "folder and the "
                        "URL your web server publishes it at); " +
                        (dir.empty() ? "VMEVAL_PUBLIC_IMAGE_DIR" : "VMEVAL_PUBLIC_IMAGE_BASE_URL") +
                        " is unset");
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw Error(ErrorCode::ModelUnavailable,
                    model + ": VMEVAL_PUBLIC_IMAGE_DIR=" + dir + " is not an existing folder");
    }
    try {
        split_url(url);
    } catch (const Error& e) {
        throw Error(ErrorCode::ModelUnavailable,
                    model + ": VMEVAL_PUBLIC_IMAGE_BASE_URL: " + e.what());
    }
    PublicDir p;
    p.dir = dir;
    p.base_url = url;
    while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
    return p;
}

}  // namespace vmeval::api::s3
