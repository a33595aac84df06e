#include "vmeval/runs/layout.hpp"

#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"

namespace vmeval::runs {

namespace {

constexpr const char* kOwnerFile = "owner";
constexpr const char* kClaimPrefix = ".claim-";

std::string hostname() {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

// Written in place right after mkdir (no temporary file, no fsync) so that the window in which a
// killed worker leaves an ownerless folder is a few system calls wide.
void write_owner(const fs::path& path) {
    std::string text = hostname() + " " + std::to_string(::getpid()) + "\n";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(ErrorCode::Io, "cannot create " + path.string() + ": " + std::strerror(errno));
    ssize_t n = ::write(fd, text.data(), text.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size())) {
        throw Error(ErrorCode::Io, "cannot write " + path.string());
    }
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

fs::path task_dir(const fs::path& output, const std::string& model, const std::string& domain,
                  const std::string& task_id) {
    return output / model / (domain + "_task") / task_id;
}

std::string make_run_id(const std::string& model, const std::string& task_id, const std::string& stamp,
                        int n) {
    std::string id = model + "_" + task_id + "_" + stamp;
    if (n > 1) id += "_" + std::to_string(n);
    return id;
}

std::optional<RunName> parse_run_id(const std::string& name, const std::string& model,
                                    const std::string& task_id) {
    std::string prefix = model + "_" + task_id + "_";
    if (name.size() < prefix.size() + 15 || name.compare(0, prefix.size(), prefix) != 0) return {};
    std::string rest = name.substr(prefix.size());
    // rest = YYYYMMDD_HHMMSS or YYYYMMDD_HHMMSS_<n>
    if (rest.size() < 15 || rest[8] != '_' || !all_digits(rest.substr(0, 8)) ||
        !all_digits(rest.substr(9, 6))) {
        return {};
    }
    RunName r{name, rest.substr(0, 15), 1};
    if (rest.size() > 15) {
        std::string suffix = rest.substr(16);
        if (rest[15] != '_' || !all_digits(suffix) || suffix.size() > 6) return {};
        r.n = std::stoi(suffix);
        if (r.n < 2) return {};
    }
    return r;
}

Reservation reserve_run(const fs::path& task_dir, const std::string& model, const std::string& task_id,
                        Clock::time_point now) {
    std::error_code ec;
    fs::create_directories(task_dir, ec);
    if (ec) throw Error(ErrorCode::Io, "cannot create " + task_dir.string() + ": " + ec.message());

    // The folder is first made under a name that carries its owner (so a worker killed at any
    // moment leaves something remove_stale_partials can attribute), gets its owner file, and only
    // then takes the run id by rename, which is atomic and fails when the name is taken.
    static std::atomic<unsigned> counter{0};
    fs::path claim;
    for (;;) {
        claim = task_dir / (std::string(kClaimPrefix) + std::to_string(::getpid()) + "-" +
                            std::to_string(counter++) + "-" + hostname());
        if (::mkdir(claim.c_str(), 0755) == 0) break;
        if (errno != EEXIST) {
            throw Error(ErrorCode::Io, "cannot create " + claim.string() + ": " + std::strerror(errno));
        }
    }
    try {
        write_owner(claim / kOwnerFile);
    } catch (...) {
        fs::remove_all(claim, ec);
        throw;
    }

    std::string stamp = run_stamp_local(now);
    for (int n = 1; n < 100000; ++n) {
        std::string id = make_run_id(model, task_id, stamp, n);
        fs::path final_dir = task_dir / id;
        fs::path partial = task_dir / (std::string(kPartialPrefix) + id);
        if (fs::exists(final_dir, ec) || fs::exists(partial, ec)) continue;
        if (::rename(claim.c_str(), partial.c_str()) != 0) {
            if (errno == EEXIST || errno == ENOTEMPTY) continue;
            std::string why = std::strerror(errno);
            fs::remove_all(claim, ec);
            throw Error(ErrorCode::Io, "cannot create " + partial.string() + ": " + why);
        }
        // A run published under this id between the check and the rename keeps its id.
        if (fs::exists(final_dir, ec)) {
            ::rename(partial.c_str(), claim.c_str());
            continue;
        }
        return {id, partial, final_dir};
    }
    fs::remove_all(claim, ec);
    throw Error(ErrorCode::Io, "no free run id under " + task_dir.string());
}

void publish_run(const Reservation& r) {
    fs_util::sync_directory(r.partial);
    if (::rename(r.partial.c_str(), r.final.c_str()) != 0) {
        throw Error(ErrorCode::Io, "cannot move " + r.partial.string() + " to " + r.final.string() +
                                       ": " + std::strerror(errno));
    }
    std::error_code ec;
    fs::remove(r.final / kOwnerFile, ec);
    fs_util::sync_directory(r.final.parent_path());
}

namespace {

bool process_gone(long pid) {
    return pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
}

/// `.claim-<pid>-<n>-<host>`: dead when made on this host by a process that is gone.
bool stale_claim(const std::string& name, const std::string& me) {
    std::string rest = name.substr(std::string(kClaimPrefix).size());
    auto a = rest.find('-');
    auto b = a == std::string::npos ? a : rest.find('-', a + 1);
    if (b == std::string::npos) return false;
    if (rest.substr(b + 1) != me) return false;
    return process_gone(std::strtol(rest.substr(0, a).c_str(), nullptr, 10));
}

/// `.partial-<run_id>` with an owner file "host pid"; folders without one (made by older
/// versions) are abandoned once they are old.
bool stale_partial(const fs::path& dir, const std::string& me) {
    std::string owner;
    try {
        owner = fs_util::read_file(dir / kOwnerFile);
    } catch (const Error&) {
    }
    auto space = owner.find(' ');
    if (space == std::string::npos) {
        std::error_code ec;
        auto age = fs::file_time_type::clock::now() - fs::last_write_time(dir, ec);
        return !ec && age > std::chrono::minutes(10);
    }
    if (owner.substr(0, space) != me) return false;
    return process_gone(std::strtol(owner.c_str() + space + 1, nullptr, 10));
}

}  // namespace

void remove_stale_partials(const fs::path& task_dir) {
    std::error_code ec;
    fs::directory_iterator it(task_dir, ec);
    if (ec) return;
    const std::string me = hostname();
    std::vector<fs::path> doomed;
    for (const auto& entry : it) {
        std::string name = entry.path().filename().string();
        if (name.rfind(kClaimPrefix, 0) == 0 ? stale_claim(name, me)
            : name.rfind(kPartialPrefix, 0) == 0 ? stale_partial(entry.path(), me)
                                                 : false) {
            doomed.push_back(entry.path());
        }
    }
    for (const auto& p : doomed) discard_folder(p);
}

void discard_folder(const fs::path& dir) {
    static std::atomic<unsigned> counter{0};
    fs::path aside = dir.parent_path() / (std::string(kClaimPrefix) + std::to_string(::getpid()) + "-x" +
                                          std::to_string(counter++) + "-" + hostname());
    if (::rename(dir.c_str(), aside.c_str()) != 0) return;  // gone already, or someone else's now
    std::error_code ec;
    fs::remove_all(aside, ec);
}

std::vector<RunName> list_runs(const fs::path& task_dir, const std::string& model,
                               const std::string& task_id) {
    std::vector<RunName> runs;
    std::error_code ec;
    fs::directory_iterator it(task_dir, ec);
    if (ec) return runs;
    for (const auto& entry : it) {
        if (!entry.is_directory(ec)) continue;
        auto r = parse_run_id(entry.path().filename().string(), model, task_id);
        if (r) runs.push_back(*r);
    }
    std::sort(runs.begin(), runs.end(), [](const RunName& a, const RunName& b) {
        return a.stamp != b.stamp ? a.stamp < b.stamp : a.n < b.n;
    });
    return runs;
}

}  // namespace vmeval::runs
