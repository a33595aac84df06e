#include "mock/mock_server.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <httplib.h>
#include <stb_image.h>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace vmeval::mock {

namespace {

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool consume(std::vector<Fault>& faults, std::string_view kind) {
    for (auto& f : faults) {
        if (f.kind != kind || f.remaining == 0) continue;
        if (f.remaining > 0) --f.remaining;
        return true;
    }
    return false;
}

bool has(const std::vector<Fault>& faults, std::string_view kind) {
    for (const auto& f : faults) {
        if (f.kind == kind && f.remaining != 0) return true;
    }
    return false;
}

/// A still clip of the first frame, scaled down so that mock runs stay cheap.
std::string make_video(const std::string& image_bytes) {
    int w = 0, h = 0, n = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(image_bytes.data()),
                                              static_cast<int>(image_bytes.size()), &w, &h, &n, 3);
    if (px == nullptr) throw Error(ErrorCode::Video, std::string("mock: first frame does not decode: ") + stbi_failure_reason());
    video::Image img(w, h);
    std::copy(px, px + static_cast<size_t>(w) * h * 3, img.rgb.begin());
    stbi_image_free(px);
    double scale = std::min(1.0, 256.0 / std::max(w, h));
    img = video::resize(img, std::max(2, static_cast<int>(w * scale)), std::max(2, static_cast<int>(h * scale)));
    static std::atomic<unsigned> seq{0};
    auto path = std::filesystem::temp_directory_path() /
                ("vmeval-mock-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + ".mp4");
    {
        video::Mp4Writer writer(path, video::Mp4Options{8.0});
        for (int i = 0; i < 16; ++i) writer.add(img);
        writer.finish();
    }
    std::string bytes = fs_util::read_file(path);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return bytes;
}

}  // namespace

bool decode_base64(std::string in, std::string& out, bool url) {
    if (url) {
        for (char& c : in) c = c == '-' ? '+' : c == '_' ? '/' : c == '+' || c == '/' ? '!' : c;
        while (in.size() % 4 != 0) in += '=';
    }
    if (in.empty() || in.size() % 4 != 0) return false;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    };
    out.clear();
    for (size_t i = 0; i < in.size(); i += 4) {
        int v[4];
        for (int k = 0; k < 4; ++k) {
            bool pad = in[i + k] == '=' && i + 4 == in.size() && k >= 2;
            v[k] = pad ? 0 : value(in[i + k]);
            if (v[k] < 0 || (pad && k == 2 && in[i + 3] != '=')) return false;
        }
        unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
        out += static_cast<char>(n >> 16);
        if (in[i + 2] != '=') out += static_cast<char>((n >> 8) & 0xff);
        if (in[i + 3] != '=') out += static_cast<char>(n & 0xff);
    }
    return true;
}

std::vector<Fault> parse_faults(std::string_view spec) {
    std::vector<Fault> out;
    std::string s(spec);
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        std::string item = trim(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
        if (!item.empty()) {
            Fault f;
            auto at = item.find('@');
            f.kind = item.substr(0, at);
            if (at != std::string::npos) f.remaining = std::max(0, std::atoi(item.c_str() + at + 1));
            out.push_back(f);
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

std::string fault_spec_in_prompt(std::string_view prompt) {
    const std::string_view tag = "[mock-fault:";
    auto b = prompt.find(tag);
    if (b == std::string_view::npos) return "";
    auto e = prompt.find(']', b);
    if (e == std::string_view::npos) return "";
    return std::string(prompt.substr(b + tag.size(), e - b - tag.size()));
}

MockContext::MockContext(MockOptions options)
    : options_(std::move(options)), server_faults_(parse_faults(options_.faults)), start_(steady_seconds()) {
    if (options_.queue_s < 0) options_.queue_s = options_.generation_s / 4;
}

double MockContext::now() const { return steady_seconds() - start_; }

std::string MockContext::new_id(const std::string& prefix) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%06lu-%04x", prefix.c_str(), counter_.fetch_add(1) + 1,
                  static_cast<unsigned>(::getpid() & 0xffff));
    return buf;
}

std::shared_ptr<Job> MockContext::add(Job job) {
    job.created = now();
    auto p = std::make_shared<Job>(std::move(job));
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_[p->id] = p;
    return p;
}

std::shared_ptr<Job> MockContext::find(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second;
}

Phase MockContext::phase(const Job& job) const {
    double age = now() - job.created;
    if (age < options_.queue_s) return Phase::Queued;
    bool stuck;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stuck = has(job.faults, "stuck") || has(server_faults_, "stuck");
    }
    if (stuck || age < options_.generation_s) return Phase::Running;
    return Phase::Done;
}

double MockContext::progress(const Job& job) const {
    if (options_.generation_s <= 0) return 1.0;
    return std::min(1.0, std::max(0.0, (now() - job.created) / options_.generation_s));
}

bool MockContext::take(Job* job, const httplib::Request& req, std::string_view kind) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (job != nullptr && consume(job->faults, kind)) return true;
    if (consume(server_faults_, kind)) return true;
    if (req.has_header("X-Mock-Fault")) {
        for (const auto& f : parse_faults(req.get_header_value("X-Mock-Fault"))) {
            if (f.kind == kind) return true;
        }
    }
    return false;
}

bool MockContext::take_for_create(const std::string& prompt, const httplib::Request& req, std::string_view kind) {
    for (const auto& f : parse_faults(fault_spec_in_prompt(prompt))) {
        if (f.kind != kind) continue;
        std::lock_guard<std::mutex> lock(mutex_);
        int& used = create_fault_uses_[prompt + "\n" + f.kind];
        if (f.remaining >= 0 && used >= f.remaining) return false;
        ++used;
        return true;
    }
    return take(nullptr, req, kind);
}

std::vector<Fault> MockContext::faults_for(const std::string& prompt, const httplib::Request& req) const {
    auto faults = parse_faults(fault_spec_in_prompt(prompt));
    if (req.has_header("X-Mock-Fault")) {
        for (auto& f : parse_faults(req.get_header_value("X-Mock-Fault"))) faults.push_back(f);
    }
    return faults;
}

bool MockContext::http_fault(Job* job, const std::string* create_prompt, const httplib::Request& req,
                             httplib::Response& res, const std::string& step, const ErrorShape& shape) {
    auto hit = [&](const char* suffix) {
        std::string kind = step + suffix;
        return create_prompt != nullptr ? take_for_create(*create_prompt, req, kind) : take(job, req, kind);
    };
    if (hit("-slow")) std::this_thread::sleep_for(std::chrono::seconds(3));
    if (hit("-429")) {
        res.status = 429;
        res.set_header("Retry-After", "1");
        res.set_content(shape(429, "rate limit exceeded (mock)"), "application/json");
        return true;
    }
    if (hit("-429-no-retry-after")) {
        res.status = 429;
        res.set_content(shape(429, "rate limit exceeded (mock)"), "application/json");
        return true;
    }
    for (int code : {500, 503}) {
        if (hit(code == 500 ? "-500" : "-503")) {
            res.status = code;
            res.set_content(shape(code, "internal error (mock)"), "application/json");
            return true;
        }
    }
    if (hit("-malformed")) {
        res.status = 200;
        res.set_content("{\"id\": \"oops\", ", "application/json");
        return true;
    }
    if (hit("-drop")) {
        // Promise a body and send none: the client sees the connection close mid-response.
        res.set_content_provider(1024, "application/json",
                                 [](size_t, size_t, httplib::DataSink&) { return false; });
        return true;
    }
    return false;
}

const std::string& MockContext::video_for(Job& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (job.video.empty()) {
        // Batches often send the same first frame many times; one encode serves them all, so
        // that the mock's own CPU does not slow the client it is testing.
        auto& cached = videos_[sha256_hex(job.image)];
        if (cached.empty()) cached = make_video(job.image);
        job.video = cached;
    }
    return job.video;
}

void MockContext::serve_video(Job& job, const httplib::Request& req, httplib::Response& res, const ErrorShape& shape) {
    if (http_fault(&job, nullptr, req, res, "download", shape)) return;
    std::string bytes;
    try {
        bytes = video_for(job);
    } catch (const std::exception& e) {
        res.status = 500;
        res.set_content(shape(500, e.what()), "application/json");
        return;
    }
    if (take(&job, req, "download-truncate")) {
        auto body = std::make_shared<std::string>(std::move(bytes));
        res.set_content_provider(body->size(), "video/mp4",
                                 [body](size_t offset, size_t, httplib::DataSink& sink) {
                                     if (offset > 0) return false;  // half the file, then hang up
                                     sink.write(body->data(), body->size() / 2);
                                     return true;
                                 });
        return;
    }
    res.set_content(bytes, "video/mp4");
}

std::string MockContext::file_url(const httplib::Request& req, const Job& job) const {
    std::string host = req.get_header_value("Host");
    if (host.empty()) host = options_.host + ":" + std::to_string(options_.port);
    return "http://" + host + "/files/" + job.id + ".mp4";
}

bool MockContext::key_ok(const std::string& presented) const {
    if (presented.empty()) return false;
    return options_.required_key.empty() || presented == options_.required_key;
}

void MockContext::put_object(const std::string& key, std::string bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_[key] = std::move(bytes);
}

bool MockContext::get_object(const std::string& key, std::string& bytes) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return false;
    bytes = it->second;
    return true;
}

bool MockContext::delete_object(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    return objects_.erase(key) > 0;
}

size_t MockContext::object_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return objects_.size();
}

MockServer::MockServer(MockOptions options)
    : ctx_(std::make_unique<MockContext>(std::move(options))), server_(std::make_unique<httplib::Server>()) {}

MockServer::~MockServer() { stop(); }

int MockServer::start() {
    auto& s = *server_;
    int threads = ctx_->options().threads;
    s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    s.set_keep_alive_max_count(1000);
    s.Get(R"(/files/([^/]+)\.mp4)", [this](const httplib::Request& req, httplib::Response& res) {
        auto job = ctx_->find(req.matches[1]);
        if (!job) {
            res.status = 404;
            res.set_content("no such file", "text/plain");
            return;
        }
        ctx_->serve_video(*job, req, res, [](int, const std::string& m) { return m; });
    });
    s.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
    register_luma(s, *ctx_);
    register_veo(s, *ctx_);
    register_kling(s, *ctx_);
    register_sora(s, *ctx_);
    register_runway(s, *ctx_);
    register_s3(s, *ctx_);
    register_hub(s, *ctx_);

    const auto& o = ctx_->options();
    if (o.port == 0) {
        port_ = s.bind_to_any_port(o.host.c_str());
    } else {
        port_ = s.bind_to_port(o.host.c_str(), o.port) ? o.port : -1;
    }
    if (port_ <= 0) {
        throw Error(ErrorCode::Config, "mock-api cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                           " (in use?): pick another with --port");
    }
    ctx_->set_port(port_);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return port_;
}

void MockServer::stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

void MockServer::wait() {
    if (thread_.joinable()) thread_.join();
}

std::string MockServer::url() const {
    return "http://" + ctx_->options().host + ":" + std::to_string(port_);
}

}  // namespace vmeval::mock
