#include "vmeval/runs/claim.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <spdlog/spdlog.h>

#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/runs/layout.hpp"

namespace vmeval::runs {

namespace {

constexpr const char* kOwnerFile = "owner";
constexpr int kAttempts = 8;

std::string this_host() {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

std::string new_token() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

bool process_gone(long pid) {
    return pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
}

/// A private name for a folder on its way in or out of kQuestionClaimDir. It follows the
/// `.claim-<pid>-<tag>-<host>` pattern of run reservations, so remove_stale_partials() cleans it
/// up when this process dies holding it.
fs::path private_name(const fs::path& task_dir, char tag) {
    static std::atomic<unsigned> counter{0};
    return task_dir / (".claim-" + std::to_string(::getpid()) + "-" + tag + std::to_string(counter++) +
                       "-" + this_host());
}

void write_owner(const fs::path& dir, const std::string& token) {
    std::string text = this_host() + " " + std::to_string(::getpid()) + " " + token + "\n";
    fs::path path = dir / kOwnerFile;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(ErrorCode::Io, "cannot create " + path.string() + ": " + std::strerror(errno));
    ssize_t n = ::write(fd, text.data(), text.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size())) throw Error(ErrorCode::Io, "cannot write " + path.string());
}

bool stale(const ClaimHolder& h, const ClaimTiming& timing) {
    if (h.host == this_host() && process_gone(h.pid)) return true;
    return h.heartbeat_age > std::chrono::duration_cast<std::chrono::seconds>(timing.stale_after);
}

/// A dead holder's unfinished runs: `.partial-*` folders whose owner file names it, and its
/// `.claim-<pid>-...-<host>` folders.
void remove_leftovers_of(const fs::path& task_dir, const ClaimHolder& dead) {
    const std::string owner_line = dead.host + " " + std::to_string(dead.pid);
    const std::string claim_prefix = ".claim-" + std::to_string(dead.pid) + "-";
    const std::string claim_suffix = "-" + dead.host;
    std::error_code ec;
    std::vector<fs::path> doomed;
    for (const auto& entry : fs::directory_iterator(task_dir, ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(kPartialPrefix, 0) == 0) {
            std::ifstream in(entry.path() / kOwnerFile);
            std::string host, pid;
            if (in >> host >> pid && host + " " + pid == owner_line) doomed.push_back(entry.path());
        } else if (name.rfind(claim_prefix, 0) == 0 && name.size() > claim_suffix.size() &&
                   name.compare(name.size() - claim_suffix.size(), claim_suffix.size(), claim_suffix) == 0) {
            doomed.push_back(entry.path());
        }
    }
    for (const auto& p : doomed) {
        spdlog::info("removing {} left by {}", p.string(), dead.describe());
        discard_folder(p);
    }
}

}  // namespace

ClaimTiming ClaimTiming::from_env() {
    ClaimTiming t;
    std::string v = env_or_empty("VMEVAL_CLAIM_STALE_S");
    if (v.empty()) return t;
    char* end = nullptr;
    double s = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !(s > 0) || s > 7 * 24 * 3600) {
        throw Error(ErrorCode::Config, "VMEVAL_CLAIM_STALE_S=" + v +
                                           ": expected the seconds after which a silent worker's claim "
                                           "is taken over (a positive number, e.g. 600)");
    }
    t.stale_after = std::chrono::milliseconds(static_cast<long long>(s * 1000));
    t.heartbeat = std::min<std::chrono::milliseconds>(t.stale_after / 10, std::chrono::seconds(30));
    if (t.heartbeat < std::chrono::milliseconds(10)) t.heartbeat = std::chrono::milliseconds(10);
    return t;
}

std::string ClaimHolder::describe() const {
    std::ostringstream s;
    s << "pid " << pid << " on " << host << ", heartbeat " << heartbeat_age.count() << " s ago";
    return s.str();
}

std::optional<ClaimHolder> read_claim_holder(const fs::path& claim_dir) {
    fs::path path = claim_dir / kOwnerFile;
    std::ifstream in(path);
    ClaimHolder h;
    if (!(in >> h.host >> h.pid >> h.token)) return std::nullopt;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    auto age = std::chrono::system_clock::now() -
               std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    h.heartbeat_age = std::max(std::chrono::seconds(0), std::chrono::duration_cast<std::chrono::seconds>(age));
    return h;
}

std::unique_ptr<QuestionClaim> QuestionClaim::try_acquire(const fs::path& task_dir, const ClaimTiming& timing,
                                                          ClaimHolder* holder) {
    std::error_code ec;
    fs::create_directories(task_dir, ec);
    if (ec) throw Error(ErrorCode::Io, "cannot create " + task_dir.string() + ": " + ec.message());

    const fs::path target = task_dir / kQuestionClaimDir;
    const std::string token = new_token();
    // The claim is prepared complete (owner file inside) under a private name and then renamed into
    // place, so a claim is never seen without its owner.
    fs::path fresh = private_name(task_dir, 'w');
    // Another worker may remove the (empty) folder between our create and mkdir: make it again.
    for (int tries = 0; ::mkdir(fresh.c_str(), 0755) != 0; ++tries) {
        if (errno != ENOENT || tries > 3) {
            throw Error(ErrorCode::Io, "cannot create " + fresh.string() + ": " + std::strerror(errno));
        }
        fs::create_directories(task_dir, ec);
    }
    try {
        write_owner(fresh, token);
    } catch (...) {
        fs::remove_all(fresh, ec);
        throw;
    }

    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        if (::rename(fresh.c_str(), target.c_str()) == 0) {
            return std::unique_ptr<QuestionClaim>(new QuestionClaim(task_dir, token));
        }
        int err = errno;
        if (err == ENOENT) {
            // NFS may answer a retransmitted rename that did succeed with ENOENT.
            auto h = read_claim_holder(target);
            if (h && h->token == token) return std::unique_ptr<QuestionClaim>(new QuestionClaim(task_dir, token));
            break;
        }
        if (err != EEXIST && err != ENOTEMPTY) {
            fs::remove_all(fresh, ec);
            throw Error(ErrorCode::Io, "cannot create " + target.string() + ": " + std::strerror(err));
        }
        auto h = read_claim_holder(target);
        if (!h) {
            // Only someone else's tampering leaves a claim without owner; respect it while young.
            auto age = fs::file_time_type::clock::now() - fs::last_write_time(target, ec);
            if (ec) continue;  // gone meanwhile: try again
            if (age < timing.stale_after) {
                if (holder) *holder = ClaimHolder{"unknown", 0, "", std::chrono::duration_cast<std::chrono::seconds>(age)};
                break;
            }
            h = ClaimHolder{"unknown", 0, "", std::chrono::duration_cast<std::chrono::seconds>(age)};
        }
        if (!stale(*h, timing)) {
            if (holder) *holder = *h;
            fs::remove_all(fresh, ec);
            return nullptr;
        }
        // Take the stale claim out of the way. Between reading it and moving it, its holder may have
        // been replaced by a live one; if what we moved is not what we judged, put it back.
        fs::path moved = private_name(task_dir, 's');
        if (::rename(target.c_str(), moved.c_str()) != 0) continue;
        auto got = read_claim_holder(moved);
        if (got && got->token != h->token) {
            if (::rename(moved.c_str(), target.c_str()) != 0) fs::remove_all(moved, ec);
            continue;
        }
        spdlog::warn("taking over {}: its worker ({}) is gone", target.string(), h->describe());
        // A frozen process on this host is not gone: its unfinished run is its own to drop.
        bool gone = h->host != this_host() || process_gone(h->pid);
        if (h->pid > 0 && gone) remove_leftovers_of(task_dir, *h);
        fs::remove_all(moved, ec);
    }
    fs::remove_all(fresh, ec);
    if (holder && holder->host.empty()) {
        auto h = read_claim_holder(target);
        if (h) *holder = *h;
    }
    return nullptr;
}

void remove_dead_claim(const fs::path& task_dir) {
    const fs::path target = task_dir / kQuestionClaimDir;
    auto h = read_claim_holder(target);
    if (!h || h->host != this_host() || !process_gone(h->pid)) return;
    // Moved aside first, and put back if what moved is not what was judged dead (a worker took the
    // question over in between), as try_acquire does.
    fs::path moved = private_name(task_dir, 'd');
    if (::rename(target.c_str(), moved.c_str()) != 0) return;
    auto got = read_claim_holder(moved);
    std::error_code ec;
    if (got && got->token != h->token) {
        if (::rename(moved.c_str(), target.c_str()) != 0) fs::remove_all(moved, ec);
        return;
    }
    fs::remove_all(moved, ec);
}

QuestionClaim::QuestionClaim(fs::path task_dir, std::string token)
    : task_dir_(std::move(task_dir)), token_(std::move(token)) {}

QuestionClaim::~QuestionClaim() {
    if (!held()) return;
    fs::path target = task_dir_ / kQuestionClaimDir;
    fs::path gone = private_name(task_dir_, 'r');
    std::error_code ec;
    if (::rename(target.c_str(), gone.c_str()) == 0) fs::remove_all(gone, ec);
}

bool QuestionClaim::held() const {
    auto h = read_claim_holder(task_dir_ / kQuestionClaimDir);
    return h && h->token == token_;
}

bool QuestionClaim::beat() {
    if (!held()) return false;
    fs::path owner = task_dir_ / kQuestionClaimDir / kOwnerFile;
    // A null time sets "now"; on NFS the server's clock, which every worker compares against.
    return ::utimensat(AT_FDCWD, owner.c_str(), nullptr, 0) == 0;
}

Heartbeat::Heartbeat(std::chrono::milliseconds interval) : interval_(interval), thread_([this] { loop(); }) {}

Heartbeat::~Heartbeat() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void Heartbeat::add(QuestionClaim* claim) {
    std::lock_guard<std::mutex> lock(mutex_);
    claims_.push_back(claim);
}

void Heartbeat::remove(QuestionClaim* claim) {
    std::lock_guard<std::mutex> lock(mutex_);
    claims_.erase(std::remove(claims_.begin(), claims_.end(), claim), claims_.end());
}

void Heartbeat::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
        for (auto* c : claims_) {
            if (!c->beat()) {
                spdlog::warn("lost the claim of {}: another worker took it over; this run will not be kept",
                             c->task_dir().string());
            }
        }
    }
}

}  // namespace vmeval::runs
