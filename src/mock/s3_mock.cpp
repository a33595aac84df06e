// An S3-compatible object store under kS3Prefix, path-style (/s3/<bucket>/<key>), where the Luma
// client uploads first frames:
//   PUT    /s3/<bucket>/<key>  signed by header (SigV4); x-amz-content-sha256 must be the body's
//                              SHA-256 -> 200 with an ETag
//   GET    /s3/<bucket>/<key>  presigned (query SigV4) or signed by header -> the bytes | 404
//   DELETE /s3/<bucket>/<key>  signed by header -> 204, whether or not the object existed (as S3)
// Errors are S3's XML <Error><Code/><Message/></Error>. The signature itself is recomputed only
// when this process's environment has AWS_SECRET_ACCESS_KEY (the tests, or a CI job exporting the
// same fake keys to server and client); otherwise its form, date, scope and payload hash are
// checked. Objects live in MockContext's store as "<bucket>/<key>". Faults: upload-429, -500...
// (the HTTP faults of the other steps) from --fault or X-Mock-Fault apply to PUT.

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "mock/mock_server.hpp"
#include "models/api/s3_upload.hpp"
#include "vmeval/core/hash.hpp"

namespace vmeval::mock {

namespace {

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&') {
            out += "&amp;";
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else {
            out += c;
        }
    }
    return out;
}

std::string s3_error_xml(const std::string& code, const std::string& message,
                         const std::string& resource) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + xml_escape(code) +
           "</Code><Message>" + xml_escape(message) + "</Message><Resource>" +
           xml_escape(resource) + "</Resource><RequestId>mock</RequestId></Error>";
}

int status_of(const std::string& code) {
    if (code == "NoSuchKey" || code == "NoSuchBucket") return 404;
    if (code == "AccessDenied" || code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
        code == "RequestTimeTooSkewed") {
        return 403;
    }
    return 400;
}

void send_error(httplib::Response& res, const std::string& code, const std::string& message,
                const std::string& resource) {
    res.status = status_of(code);
    res.set_content(s3_error_xml(code, message, resource), "application/xml");
}

/// The request's headers with lower-case names, as SigV4 canonicalises them.
std::map<std::string, std::string> lower_headers(const httplib::Request& req) {
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : req.headers) {
        std::string n = name;
        std::transform(n.begin(), n.end(), n.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        out.emplace(n, value);
    }
    return out;
}

/// Verifies the request as S3 would; writes the error and returns false when refused.
bool authorized(const httplib::Request& req, httplib::Response& res, const std::string& resource) {
    const std::string& target = req.target.empty() ? req.path : req.target;
    const size_t q = target.find('?');
    const std::string raw_path = target.substr(0, q);
    const std::string raw_query = q == std::string::npos ? "" : target.substr(q + 1);
    api::s3::Verdict v =
        api::s3::check_request(req.method, raw_path, raw_query, lower_headers(req), req.body,
                               api::s3::server_keys_from_environment(), std::time(nullptr));
    if (v.ok()) return true;
    send_error(res, v.code, v.message, resource);
    return false;
}

}  // namespace

void register_s3(httplib::Server& server, MockContext& ctx) {
    const std::string route = std::string(kS3Prefix) + R"(/([^/]+)/(.+))";
    auto shape = [](int status, const std::string& message) {
        return s3_error_xml(status == 429 || status == 503 ? "SlowDown" : "InternalError", message,
                            "");
    };

    server.Put(route, [&ctx, shape](const httplib::Request& req, httplib::Response& res) {
        const std::string object = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
        if (!authorized(req, res, "/" + object)) return;
        if (ctx.http_fault(nullptr, nullptr, req, res, "upload", shape)) return;
        ctx.put_object(object, req.body);
        res.set_header("ETag", "\"" + sha256_hex(req.body).substr(0, 32) + "\"");
        res.status = 200;
    });

    server.Get(route, [&ctx](const httplib::Request& req, httplib::Response& res) {
        const std::string object = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
        if (!authorized(req, res, "/" + object)) return;
        std::string bytes;
        if (!ctx.get_object(object, bytes)) {
            send_error(res, "NoSuchKey", "The specified key does not exist.", "/" + object);
            return;
        }
        const bool png = bytes.rfind("\x89PNG", 0) == 0;
        res.set_content(bytes, png ? "image/png" : "application/octet-stream");
    });

    server.Delete(route, [&ctx](const httplib::Request& req, httplib::Response& res) {
        const std::string object = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
        if (!authorized(req, res, "/" + object)) return;
        ctx.delete_object(object);
        res.status = 204;
    });
}

}  // namespace vmeval::mock
