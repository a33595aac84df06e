#pragma once

// Putting a first frame at a public URL, for providers that only fetch images by URL (Luma):
// an S3-compatible bucket (AWS Signature Version 4 computed here with OpenSSL, since the HTTP
// layer does not expose libcurl's CURLOPT_AWS_SIGV4), or a directory the user serves on the web.
// The SigV4 primitives are public so that the mock server checks what the client signs.

#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vmeval/http/http.hpp"

namespace vmeval::api::s3 {

/// How long presigned GET URLs stay valid: providers may fetch the image long after submission
/// (queues of hours happen), and the object is deleted once the job ends anyway.
inline constexpr long kPresignExpiresS = 6 * 3600;

/// SHA-256 of an empty body, hex: the payload hash of GET and DELETE.
inline constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token;  ///< empty unless temporary credentials
    std::string region = "us-east-1";
};

/// Raw 32-byte HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);
/// SigV4's URI encoding: everything but A-Z a-z 0-9 - _ . ~ (and '/' when !encode_slash) as %XX.
std::string uri_encode(std::string_view text, bool encode_slash);
std::string percent_decode(std::string_view text);
/// "20130524T000000Z" for a UTC time.
std::string amz_date(std::time_t t);

/// The parts of an http(s) URL that a signature covers.
struct UrlParts {
    std::string scheme;
    std::string host;   ///< with ":port" unless the scheme's default port
    std::string path;   ///< as written (already encoded), "/" when empty
    std::string query;  ///< raw, without '?'
};
/// Throws Error(Config) for anything but http(s)://host[/...].
UrlParts split_url(const std::string& url);
/// "a=1&b=%2F" -> decoded (name, value) pairs in order.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw);
/// Names and values URI-encoded, sorted by name then value, joined; pairs named `skip` left out.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& decoded,
                            std::string_view skip = {});

/// Every intermediate of one signature, so that tests can compare each with AWS's examples.
struct Signature {
    std::string canonical_request;
    std::string string_to_sign;
    std::string scope;           ///< 20130524/us-east-1/s3/aws4_request
    std::string signed_headers;  ///< host;x-amz-date
    std::string signature;       ///< hex
};
/// SigV4 over a request whose URI and query are already canonical. `headers` are the signed ones,
/// names in lower case (values are trimmed here).
Signature sign(const std::string& secret_key, const std::string& region, const std::string& service,
               const std::string& method, const std::string& canonical_uri,
               const std::string& canonical_query,
               const std::map<std::string, std::string>& headers, const std::string& payload_hash,
               const std::string& amz_date);

/// The headers of a request authorized by header: `extra` (e.g. Content-Type, signed too),
/// x-amz-date, x-amz-content-sha256, the session token when there is one, and Authorization.
/// The host is signed as the URL gives it.
http::Headers authorization_headers(const Credentials& credentials, const std::string& method,
                                    const std::string& url, const std::string& payload_hash,
                                    std::time_t now, const http::Headers& extra = {});

/// A presigned URL (query-string SigV4, UNSIGNED-PAYLOAD, only the host signed).
std::string presign(const Credentials& credentials, const std::string& method,
                    const std::string& url, long expires_s, std::time_t now);

/// Why S3 would refuse a request: an S3 error code ("AccessDenied", "SignatureDoesNotMatch"...)
/// and a message; ok() when it would be served. Used by the mock server.
struct Verdict {
    std::string code;
    std::string message;
    bool ok() const { return code.empty(); }
};
/// What the server knows: the signature is recomputed only when `secret_key` is not empty, and
/// the access key compared only when `access_key` is not empty.
struct ServerKeys {
    std::string access_key;
    std::string secret_key;
};
/// What a mock server sharing this environment knows: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
ServerKeys server_keys_from_environment();
/// Checks a request authorized by query parameters (a presigned URL) or by header, as S3 would.
/// `raw_path` and `raw_query` as they arrived (still encoded); `headers` with lower-case names,
/// the host among them; `body` of a PUT (its hash must match x-amz-content-sha256).
Verdict check_request(const std::string& method, const std::string& raw_path,
                      const std::string& raw_query,
                      const std::map<std::string, std::string>& headers, const std::string& body,
                      const ServerKeys& keys, std::time_t now);

/// "Code: Message" from S3's <Error><Code>..</Code><Message>..</Message></Error>; "" if absent.
std::string error_text(const std::string& body);

/// A bucket as configured in the environment.
struct Bucket {
    Credentials credentials;
    std::string name;
    std::string endpoint;  ///< e.g. https://minio.example:9000 (path-style); empty = AWS
    /// https://<bucket>.s3.<region>.amazonaws.com/<key> on AWS (path-style on
    /// s3.<region>.amazonaws.com when the bucket name has dots, which TLS wildcards do not
    /// cover), else <endpoint>/<bucket>/<key>.
    std::string object_url(const std::string& key) const;
};

/// The bucket from AWS_S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
/// AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1) and AWS_ENDPOINT_URL (else, when
/// VMEVAL_MOCK_API is set, the mock's S3). nullopt when AWS_S3_BUCKET is unset; throws
/// Error(ModelUnavailable) naming the variable when the bucket is set but a key is missing.
/// Registers the keys and the token for redaction.
std::optional<Bucket> bucket_from_environment(const std::string& model);

/// Signed requests for one object.
http::Request put_object_request(const Bucket& bucket, const std::string& key,
                                 const std::string& bytes, const std::string& content_type,
                                 std::time_t now);
http::Request delete_object_request(const Bucket& bucket, const std::string& key, std::time_t now);
std::string presigned_get(const Bucket& bucket, const std::string& key, long expires_s,
                          std::time_t now);

/// "<UTC yyyymmddThhmmss>-<16 random hex digits>": unique enough for object keys and file names
/// of concurrent runs, on one machine or many.
std::string unique_token();

/// A directory that the user's web server publishes at `base_url`.
struct PublicDir {
    std::filesystem::path dir;
    std::string base_url;  ///< without the trailing '/'

    /// Writes `bytes` as `<dir>/<name>` and returns its public URL, `<base_url>/<name>`. Throws
    /// Error(Io) naming the file.
    std::string place(const std::string& name, const std::string& bytes) const;
    /// Deletes `<dir>/<name>`; false when it could not (already gone counts as done).
    bool remove(const std::string& name) const;
};

/// VMEVAL_PUBLIC_IMAGE_DIR and VMEVAL_PUBLIC_IMAGE_BASE_URL; nullopt when neither is set. Throws
/// Error(ModelUnavailable) when only one is, or the directory does not exist.
std::optional<PublicDir> public_dir_from_environment(const std::string& model);

}  // namespace vmeval::api::s3
