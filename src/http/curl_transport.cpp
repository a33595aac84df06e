#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <string_view>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/core/version.hpp"
#include "vmeval/http/http.hpp"

namespace vmeval::http {

namespace {

namespace fs = std::filesystem;

// An error page is for the log, not for storage: enough to show the provider's message.
constexpr std::size_t kErrorBodyKeep = 64 * 1024;
constexpr long kMaxRedirects = 10;

struct EasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MimeDeleter {
    void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;
using Mime = std::unique_ptr<curl_mime, MimeDeleter>;

void global_init() {
    // curl_global_init is not thread-safe and must run once before any handle exists. A failed
    // call leaves the flag unset, so the next request tries again.
    static std::once_flag once;
    std::call_once(once, [] {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            throw Error(ErrorCode::Network,
                        std::string("cannot initialise libcurl: ") + curl_easy_strerror(rc));
        }
    });
}

std::string errno_text() { return std::strerror(errno); }

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

/// `<target>.part-<random>` beside the target, deleted unless commit() renames it onto the target,
/// so that a reader never sees a half-written download and a failure leaves nothing behind.
class PartFile {
public:
    PartFile() = default;
    PartFile(const PartFile&) = delete;
    PartFile& operator=(const PartFile&) = delete;
    ~PartFile() { discard(); }

    bool is_open() const { return fd_ >= 0; }

    void open(const fs::path& target) {
        discard();
        static thread_local std::mt19937_64 rng{std::random_device{}()};
        for (int attempt = 0; attempt < 16; ++attempt) {
            char suffix[24];
            std::snprintf(suffix, sizeof suffix, ".part-%016llx",
                          static_cast<unsigned long long>(rng()));
            fs::path candidate = target;
            candidate += suffix;
            int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd >= 0) {
                fd_ = fd;
                path_ = candidate;
                return;
            }
            if (errno != EEXIST) {
                throw Error(ErrorCode::Io,
                            "cannot create " + candidate.string() + ": " + errno_text());
            }
        }
        throw Error(ErrorCode::Io, "cannot create a temporary file beside " + target.string());
    }

    void write(const char* data, std::size_t size) {
        while (size > 0) {
            ssize_t n = ::write(fd_, data, size);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw Error(ErrorCode::Io, "cannot write " + path_.string() + ": " + errno_text());
            }
            data += n;
            size -= static_cast<std::size_t>(n);
        }
    }

    void truncate() {
        if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
            throw Error(ErrorCode::Io, "cannot truncate " + path_.string() + ": " + errno_text());
        }
    }

    void commit(const fs::path& target) {
        // fsync before rename: otherwise a crash can leave the final name on an empty file.
        if (::fsync(fd_) != 0) {
            throw Error(ErrorCode::Io, "cannot flush " + path_.string() + ": " + errno_text());
        }
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) {
            throw Error(ErrorCode::Io, "cannot close " + path_.string() + ": " + errno_text());
        }
        if (::rename(path_.c_str(), target.c_str()) != 0) {
            throw Error(ErrorCode::Io, "cannot rename " + path_.string() + " to " +
                                           target.string() + ": " + errno_text());
        }
        path_.clear();
        fs::path dir = target.parent_path();
        fs_util::sync_directory(dir.empty() ? fs::path(".") : dir);
    }

    void discard() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        if (!path_.empty()) ::unlink(path_.c_str());
        path_.clear();
    }

private:
    int fd_ = -1;
    fs::path path_;
};

/// What the callbacks build while libcurl runs one exchange.
struct Transfer {
    const Request& request;
    CURL* handle = nullptr;
    Headers headers;
    long sink_status = -1;  ///< the status whose body the sink below holds
    bool to_file = false;
    std::string body;
    std::size_t keep_limit = 0;  ///< bytes of `body` kept; the rest is counted, not stored
    PartFile file;
    std::uint64_t bytes = 0;
    bool too_large = false;
    std::exception_ptr failure;  ///< thrown in a callback, rethrown once libcurl has returned

    explicit Transfer(const Request& r) : request(r) {}

    /// Points the sink at the body of a response with `status`: only a success goes to the file.
    void choose_sink(long status) {
        sink_status = status;
        bytes = 0;
        body.clear();
        const bool download = !request.download_to.empty();
        if (download && status >= 200 && status < 300) {
            if (file.is_open()) {
                file.truncate();
            } else {
                file.open(request.download_to);
            }
            to_file = true;
            keep_limit = 0;
        } else {
            file.discard();
            to_file = false;
            keep_limit = download ? kErrorBodyKeep : static_cast<std::size_t>(-1);
        }
    }
};

long response_code(CURL* handle) {
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    try {
        std::string_view line = trim(std::string_view(data, n));
        // Every response (1xx, each redirect, a proxy's CONNECT answer) starts with its status
        // line; only the last one's headers describe the body the caller gets.
        if (starts_with_icase(line, "HTTP/")) {
            t->headers.clear();
            return n;
        }
        if (line.empty()) return n;
        if ((data[0] == ' ' || data[0] == '\t') && !t->headers.empty()) {
            t->headers.back().value += " ";  // obsolete line folding continues the last header
            t->headers.back().value += line;
            return n;
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return n;
        t->headers.push_back(
            Header{lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
        return n;
    } catch (...) {
        t->failure = std::current_exception();
        return 0;
    }
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    try {
        // The headers are complete by now, so the status tells where this body belongs.
        long status = response_code(t->handle);
        if (status != t->sink_status) {
            t->choose_sink(status);
            // Refuse an announced oversize body before storing any of it.
            curl_off_t announced = -1;
            curl_easy_getinfo(t->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
            if (announced > 0 && static_cast<std::uint64_t>(announced) > t->request.max_bytes) {
                t->too_large = true;
                return 0;
            }
        }
        if (n > t->request.max_bytes - std::min(t->bytes, t->request.max_bytes)) {
            t->too_large = true;
            return 0;
        }
        t->bytes += n;
        if (t->to_file) {
            t->file.write(data, n);
        } else if (t->body.size() < t->keep_limit) {
            t->body.append(data, std::min(n, t->keep_limit - t->body.size()));
        }
        return n;
    } catch (...) {
        t->failure = std::current_exception();
        return 0;
    }
}

template <typename T>
void set(CURL* handle, CURLoption option, T value) {
    CURLcode rc = curl_easy_setopt(handle, option, value);
    if (rc != CURLE_OK) {
        throw Error(ErrorCode::Internal, std::string("libcurl refused option ") +
                                             std::to_string(static_cast<int>(option)) + ": " +
                                             curl_easy_strerror(rc));
    }
}

void check_mime(CURLcode rc, const std::string& what) {
    if (rc != CURLE_OK) {
        throw Error(ErrorCode::Internal,
                    what + ": cannot build the form: " + curl_easy_strerror(rc));
    }
}

long milliseconds(double seconds) {
    if (!std::isfinite(seconds) || seconds <= 0) return 0;  // 0: libcurl's "no limit" / default
    return std::max(1L, std::lround(std::min(seconds, 1e9) * 1000.0));
}

/// libcurl's reason without anything that might be a credential: its messages name hosts and
/// ports, and this makes sure a whole URL or its query string never slips through.
std::string scrub(std::string reason, const Request& request) {
    auto erase_all = [&reason](std::string_view needle, std::string_view with) {
        if (needle.empty()) return;
        for (std::size_t pos = reason.find(needle); pos != std::string::npos;
             pos = reason.find(needle, pos + with.size())) {
            reason.replace(pos, needle.size(), with);
        }
    };
    erase_all(request.url, "<url>");
    std::size_t query = request.url.find('?');
    if (query != std::string::npos) erase_all(std::string_view(request.url).substr(query), "");
    return reason;
}

Slist build_headers(const Request& request, const std::string& what) {
    Slist list;
    bool has_expect = false;
    auto append = [&list](const std::string& line) {
        curl_slist* head = curl_slist_append(list.get(), line.c_str());
        if (head == nullptr) throw std::bad_alloc();
        list.release();  // the same list, now one longer
        list.reset(head);
    };
    for (const Header& h : request.headers) {
        if (h.name.empty() || h.name.find_first_of(":\r\n") != std::string::npos ||
            h.value.find_first_of("\r\n") != std::string::npos) {
            // Never echo the value: it is likely a key.
            throw Error(ErrorCode::Internal, what + ": invalid header name or value for '" +
                                                 h.name.substr(0, h.name.find_first_of("\r\n")) +
                                                 "'");
        }
        if (starts_with_icase(h.name, "expect") && h.name.size() == 6) has_expect = true;
        // "Name:" would delete the header; "Name;" is libcurl's spelling of an empty value.
        append(h.value.empty() ? h.name + ";" : h.name + ": " + h.value);
    }
    // Without this libcurl waits up to a second for "100 Continue" before large bodies.
    if (!has_expect) append("Expect:");
    return list;
}

class CurlTransport : public Transport {
public:
    Response perform(const Request& request) override {
        global_init();
        const std::string what = describe(request);

        // Declared before the handle so that the handle, which points at all of them, goes first.
        Transfer transfer(request);
        char error_text[CURL_ERROR_SIZE] = {};
        Slist headers = build_headers(request, what);
        Mime form;
        EasyHandle easy(curl_easy_init());
        if (!easy) throw Error(ErrorCode::Network, what + ": cannot create a libcurl handle");
        CURL* h = easy.get();
        transfer.handle = h;

        const std::string user_agent = std::string("vmeval/") + vmeval::version();
        set(h, CURLOPT_ERRORBUFFER, error_text);
        set(h, CURLOPT_URL, request.url.c_str());
        // Signals (libcurl's DNS timeouts) are not safe in a multi-threaded program.
        set(h, CURLOPT_NOSIGNAL, 1L);
        set(h, CURLOPT_SSL_VERIFYPEER, 1L);
        set(h, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
        set(h, CURLOPT_PROTOCOLS_STR, "http,https");
        set(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        set(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        set(h, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        set(h, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connect_timeout_s));
        set(h, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout_s));
        set(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
        set(h, CURLOPT_MAXREDIRS, kMaxRedirects);
        set(h, CURLOPT_ACCEPT_ENCODING, "");
        set(h, CURLOPT_USERAGENT, user_agent.c_str());
        // Long polls and slow renders keep connections idle; keepalive stops NATs dropping them.
        set(h, CURLOPT_TCP_KEEPALIVE, 1L);
        set(h, CURLOPT_HEADERFUNCTION, &on_header);
        set(h, CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
        set(h, CURLOPT_WRITEFUNCTION, &on_body);
        set(h, CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
        set(h, CURLOPT_HTTPHEADER, headers.get());

        const std::string method = request.method.empty() ? "GET" : upper(request.method);
        const bool has_form = !request.form.empty();
        if (method == "HEAD") {
            set(h, CURLOPT_NOBODY, 1L);  // a custom "HEAD" would wait for a body that never comes
        } else if (method == "GET" && !has_form && request.body.empty()) {
            set(h, CURLOPT_HTTPGET, 1L);
        } else {
            if (has_form) {
                form.reset(curl_mime_init(h));
                if (!form) throw std::bad_alloc();
                for (const FormPart& part : request.form) {
                    curl_mimepart* p = curl_mime_addpart(form.get());
                    if (p == nullptr) throw std::bad_alloc();
                    check_mime(curl_mime_name(p, part.name.c_str()), what);
                    check_mime(curl_mime_data(p, part.value.data(), part.value.size()), what);
                    if (!part.filename.empty()) {
                        check_mime(curl_mime_filename(p, part.filename.c_str()), what);
                        check_mime(curl_mime_type(p, part.content_type.empty()
                                                         ? "application/octet-stream"
                                                         : part.content_type.c_str()),
                                   what);
                    } else if (!part.content_type.empty()) {
                        check_mime(curl_mime_type(p, part.content_type.c_str()), what);
                    }
                }
                set(h, CURLOPT_MIMEPOST, form.get());
            } else if (!request.body.empty() || method == "POST" || method == "PUT" ||
                       method == "PATCH") {
                // An explicit size keeps NUL bytes; an empty body still sends Content-Length: 0.
                set(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
                set(h, CURLOPT_POSTFIELDS, request.body.data());
            }
            if (method != "POST") set(h, CURLOPT_CUSTOMREQUEST, method.c_str());
        }

        CURLcode rc = curl_easy_perform(h);
        if (transfer.failure) std::rethrow_exception(transfer.failure);
        if (transfer.too_large) {
            throw Error(ErrorCode::Network, redact(what + ": response larger than " +
                                                   std::to_string(request.max_bytes) + " bytes"));
        }
        if (rc != CURLE_OK) {
            throw Error(ErrorCode::Network,
                        redact(what + ": " + reason(h, rc, error_text, request)));
        }

        Response response;
        response.status = response_code(h);
        response.headers = std::move(transfer.headers);
        if (!request.download_to.empty() && response.ok()) {
            // An empty success body never reached on_body: the file must still appear.
            if (transfer.sink_status != response.status) transfer.choose_sink(response.status);
            transfer.file.commit(request.download_to);
        } else {
            response.body = std::move(transfer.body);
        }
        response.bytes = transfer.bytes;
        return response;
    }

private:
    static std::string reason(CURL* h, CURLcode rc, const char* error_text,
                              const Request& request) {
        if (rc == CURLE_PARTIAL_FILE) {
            curl_off_t got = 0;
            curl_off_t expected = -1;
            curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &got);
            curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
            std::string text =
                "connection closed before the whole body arrived (got " + std::to_string(got);
            if (expected >= 0) text += " of " + std::to_string(expected);
            return text + " bytes)";
        }
        // The error buffer has the specifics ("Failed to connect to host port 443 after ...").
        std::string text = error_text[0] != '\0' ? std::string(error_text) : curl_easy_strerror(rc);
        return scrub(text, request);
    }
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport() { return std::make_unique<CurlTransport>(); }

}  // namespace vmeval::http
