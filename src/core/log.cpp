#include "vmeval/core/log.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/spdlog.h>

#include "vmeval/http/http.hpp"

namespace vmeval::logging {

namespace {

/// Writes log lines to stderr; on a terminal it first erases the status line and redraws it
/// afterwards, so progress stays at the bottom without mangling messages.
class ConsoleSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit ConsoleSink(bool tty) : tty_(tty) {}

    void set_status(const std::string& line) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!tty_) return;
        status_ = line;
        std::fputs("\r\033[K", stderr);
        std::fputs(status_.c_str(), stderr);
        std::fflush(stderr);
    }

protected:
    void sink_it_(const spdlog::details::log_msg& raw) override {
        // Every message is redacted here, whatever its origin: a key that slipped into an
        // exception text still never reaches the terminal or the log file.
        std::string text = http::redact(std::string_view(raw.payload.data(), raw.payload.size()));
        spdlog::details::log_msg msg(raw.time, raw.source, raw.logger_name, raw.level, text);
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        if (tty_ && !status_.empty()) std::fputs("\r\033[K", stderr);
        std::fwrite(formatted.data(), 1, formatted.size(), stderr);
        if (tty_ && !status_.empty()) std::fputs(status_.c_str(), stderr);
        std::fflush(stderr);
    }
    void flush_() override { std::fflush(stderr); }

private:
    bool tty_;
    std::string status_;
};

/// Redacts, then hands the message to the batch log file.
class RedactingFileSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit RedactingFileSink(const std::string& path) : file_(path, false) {}

protected:
    void sink_it_(const spdlog::details::log_msg& raw) override {
        std::string text = http::redact(std::string_view(raw.payload.data(), raw.payload.size()));
        spdlog::details::log_msg msg(raw.time, raw.source, raw.logger_name, raw.level, text);
        file_.log(msg);
    }
    void flush_() override { file_.flush(); }
    void set_pattern_(const std::string& pattern) override { file_.set_pattern(pattern); }
    void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { file_.set_formatter(std::move(f)); }

private:
    spdlog::sinks::basic_file_sink_st file_;
};

struct State {
    std::shared_ptr<ConsoleSink> console;
    std::shared_ptr<spdlog::sinks::dist_sink_mt> all;
    std::shared_ptr<RedactingFileSink> file;
    std::mutex mutex;
};

State& state() {
    static State s;
    return s;
}

}  // namespace

// Workers started by `generate --gpus` share their parent's terminal: a live status line from each
// would overwrite the others', so they print plain lines tagged with their name.
bool interactive() { return ::isatty(STDERR_FILENO) == 1 && std::getenv("VMEVAL_WORKER") == nullptr; }

namespace {

void init_locked(State& s, Verbosity verbosity) {
    s.console = std::make_shared<ConsoleSink>(interactive());
    const char* worker = std::getenv("VMEVAL_WORKER");
    s.console->set_pattern(worker ? std::string("%^%l%$: [") + worker + "] %v" : std::string("%^%l%$: %v"));
    switch (verbosity) {
        case Verbosity::Quiet: s.console->set_level(spdlog::level::warn); break;
        case Verbosity::Normal: s.console->set_level(spdlog::level::info); break;
        case Verbosity::Verbose: s.console->set_level(spdlog::level::debug); break;
        case Verbosity::Trace: s.console->set_level(spdlog::level::trace); break;
    }
    s.all = std::make_shared<spdlog::sinks::dist_sink_mt>();
    s.all->add_sink(s.console);
    auto logger = std::make_shared<spdlog::logger>("vmeval", s.all);
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

}  // namespace

void init(Verbosity verbosity) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    init_locked(s, verbosity);
}

void open_file(const std::filesystem::path& path) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    // Library users who never called init() still get the batch log; the console shows warnings.
    if (!s.all) init_locked(s, Verbosity::Quiet);
    if (s.file) s.all->remove_sink(s.file);
    s.file = std::make_shared<RedactingFileSink>(path.string());
    s.file->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l [%t] %v");
    s.file->set_level(spdlog::level::debug);
    s.all->add_sink(s.file);
}

void close_file() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.all && s.file) {
        s.file->flush();
        s.all->remove_sink(s.file);
    }
    s.file.reset();
}

void debug(const std::string& message) { spdlog::debug("{}", message); }

void set_status(const std::string& line) {
    State& s = state();
    std::shared_ptr<ConsoleSink> console;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        console = s.console;
    }
    if (console) console->set_status(line);
}

}  // namespace vmeval::logging
