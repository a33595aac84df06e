#include "vmeval/weights/pull.hpp"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/core/log.hpp"
#include "vmeval/core/time.hpp"
#include "vmeval/http/http.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/weights/hub_cache.hpp"
#include "vmeval/weights/hub_client.hpp"
#include "vmeval/weights/manifest.hpp"

namespace vmeval::weights {

namespace fs = std::filesystem;

namespace {

constexpr int kAttempts = 4;

/// One file to fetch and where it goes.
struct Task {
    std::string repo;
    std::string url;
    RemoteFile file;
    fs::path final_path;  ///< blobs/<etag>, or <dir>/<path>
    fs::path part;        ///< final_path + ".incomplete"
};

/// One repository at one commit: what it holds and what is left to fetch.
struct RepoPlan {
    std::string label;  ///< the model asking for it
    RepoSpec spec;
    std::string commit;
    fs::path root;  ///< the repository's cache folder, or its plain folder under --dir
    std::vector<RemoteFile> files;
    std::vector<Task> tasks;
    bool failed = false;
};

std::uint64_t size_or_zero(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

std::string plain_folder_name(const std::string& repo) {
    std::string s = repo;
    for (size_t pos = 0; (pos = s.find('/', pos)) != std::string::npos; pos += 2)
        s.replace(pos, 1, "--");
    return s;
}

ModelManifest manifest_for_name(const std::string& name) {
    if (const auto* m = registry::find_model(name)) return manifest_for(*m);
    if (name.find('/') != std::string::npos) return manifest_for_repo(name);
    std::string hint;
    for (const auto& s : registry::suggest(name)) hint += (hint.empty() ? "" : ", ") + s;
    throw Error(ErrorCode::Usage,
                "unknown model '" + name + "'" +
                    (hint.empty() ? "" : " (did you mean " + hint + "?)") +
                    "; give a local model from `vmeval models` or a repository id org/name");
}

/// Offline: only what the cache holds. Every snapshot link must lead to a blob.
void check_offline(RepoPlan& plan, const PullOptions& o) {
    if (!o.dir.empty()) {
        std::error_code ec;
        if (!fs::is_directory(plan.root, ec)) {
            throw Error(ErrorCode::Config, "HF_HUB_OFFLINE is set and " + plan.root.string() +
                                               " does not exist; " + "pull " + plan.spec.repo +
                                               " once with network access");
        }
        return;
    }
    plan.commit = cached_commit(plan.root, plan.spec.revision);
    auto snap = find_snapshot_in(hub_cache_dir(), plan.spec.repo, plan.spec.revision);
    if (!snap) {
        throw Error(ErrorCode::Config,
                    "HF_HUB_OFFLINE is set and " + plan.spec.repo + "@" + plan.spec.revision +
                        " is not in the cache " + hub_cache_dir().string() +
                        "; unset HF_HUB_OFFLINE and run `vmeval pull " + plan.label +
                        "` where the Hub is reachable, or point HF_HOME at a cache that has it");
    }
    std::vector<std::string> broken;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(*snap, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_symlink(ec) && !fs::exists(it->path(), ec))
            broken.push_back(it->path().lexically_relative(*snap).string());
    }
    if (!broken.empty()) {
        std::string list;
        for (const auto& b : broken) list += "\n  " + b;
        throw Error(ErrorCode::Config, "HF_HUB_OFFLINE is set and " +
                                           std::to_string(broken.size()) + " file(s) of " +
                                           plan.spec.repo + " are missing from " + snap->string() +
                                           ":" + list + "\nunset HF_HUB_OFFLINE and pull again");
    }
    spdlog::info("{}: offline, using the cached snapshot {}", plan.spec.repo, snap->string());
}

void plan_online(RepoPlan& plan, const HubConfig& hub, const PullOptions& o) {
    RepoListing listing = list_repo(hub, plan.spec.repo, plan.spec.revision);
    plan.commit = listing.commit;
    plan.files = select_files(plan.spec, listing.files);
    if (plan.files.empty()) {
        throw Error(ErrorCode::Http,
                    plan.spec.repo + "@" + plan.spec.revision +
                        " has none of the files the pipeline needs (is it a diffusers folder?)");
    }
    for (const auto& f : plan.files) {
        Task t{plan.spec.repo, resolve_url(hub, plan.spec.repo, plan.commit, f.path), f, {}, {}};
        t.final_path = o.dir.empty() ? plan.root / "blobs" / f.etag : plan.root / f.path;
        t.part = t.final_path.string() + ".incomplete";
        std::error_code ec;
        if (fs::is_regular_file(t.final_path, ec) && size_or_zero(t.final_path) == f.size) continue;
        plan.tasks.push_back(std::move(t));
    }
}

/// Fetches one file: resumes a partial part file, checks size and SHA-256, renames into place.
void fetch(const Task& t, const HubConfig& hub, std::atomic<std::uint64_t>& received) {
    std::error_code ec;
    fs::create_directories(t.part.parent_path(), ec);
    for (int attempt = 1;; ++attempt) {
        std::uint64_t have = size_or_zero(t.part);
        if (have > t.file.size) {
            fs::remove(t.part, ec);
            have = 0;
        }
        if (have > 0 && attempt == 1)
            spdlog::info("{}: resuming at {}", t.file.path, human_bytes(have));
        try {
            if (have < t.file.size) {
                download_to_part(hub, t.repo, t.url, t.part, received);
            } else if (t.file.size == 0) {
                fs_util::write_file_atomic(t.part, "");  // an empty body writes no part file
            }
        } catch (const Error& e) {
            if (e.code() != ErrorCode::Network || attempt == kAttempts) throw;
            spdlog::warn("{}: transfer broke off at {} ({}); resuming", t.file.path,
                         human_bytes(size_or_zero(t.part)), e.what());
            std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
            continue;
        }
        std::uint64_t got = size_or_zero(t.part);
        std::string bad;
        if (got != t.file.size) {
            bad = "size " + std::to_string(got) + " instead of " + std::to_string(t.file.size);
        } else if (!t.file.sha256.empty()) {
            std::string sum = sha256_file(t.part);
            if (sum != t.file.sha256) bad = "SHA-256 " + sum + " instead of " + t.file.sha256;
        }
        if (bad.empty()) break;
        fs::remove(t.part, ec);
        if (attempt == kAttempts) {
            throw Error(ErrorCode::Network, t.file.path + " from " + t.repo +
                                                " arrived corrupted " + std::to_string(kAttempts) +
                                                " times (" + bad + ")");
        }
        spdlog::warn("{}: corrupted download ({}); downloading it again", t.file.path, bad);
    }
    fs::rename(t.part, t.final_path, ec);
    if (ec)
        throw Error(ErrorCode::Io,
                    "cannot move " + t.part.string() + " into place: " + ec.message());
}

/// Redraws "pull: 3/7 files, 1.2 GiB of 4.5 GiB, 85 MiB/s, ETA 41s" until stopped.
class ProgressLine {
public:
    ProgressLine(size_t files, std::uint64_t total, std::atomic<std::uint64_t>& received,
                 std::atomic<int>& done)
        : files_(files),
          total_(total),
          received_(received),
          done_(done),
          start_(std::chrono::steady_clock::now()) {
        if (logging::interactive()) thread_ = std::thread([this] { loop(); });
    }
    ~ProgressLine() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        logging::set_status("");
    }
    std::string line() const {
        double s = seconds_between(start_, std::chrono::steady_clock::now());
        std::uint64_t got = std::min(received_.load(), total_);
        double rate = s > 0 ? static_cast<double>(got) / s : 0;
        std::string eta =
            rate > 0 ? human_duration(static_cast<double>(total_ - got) / rate) : "--";
        return "pull: " + std::to_string(done_.load()) + "/" + std::to_string(files_) + " files, " +
               human_bytes(got) + " of " + human_bytes(total_) + ", " +
               human_bytes(static_cast<std::uint64_t>(rate)) + "/s, ETA " + eta;
    }

private:
    void loop() {
        while (!stop_) {
            logging::set_status(line());
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
    }
    size_t files_;
    std::uint64_t total_;
    std::atomic<std::uint64_t>& received_;
    std::atomic<int>& done_;
    std::chrono::steady_clock::time_point start_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

void print_plan(const std::vector<RepoPlan>& plans) {
    std::uint64_t total = 0;
    for (const auto& p : plans) {
        std::printf("%s (%s@%s)\n", p.label.c_str(), p.spec.repo.c_str(),
                    p.commit.substr(0, 12).c_str());
        for (const auto& f : p.files) {
            bool missing = std::any_of(p.tasks.begin(), p.tasks.end(),
                                       [&](const Task& t) { return t.file.path == f.path; });
            std::printf("  %-10s %10s  %s\n", missing ? "download" : "present",
                        human_bytes(f.size).c_str(), f.path.c_str());
            if (missing) total += f.size;
        }
    }
    std::printf("to download: %s\n", human_bytes(total).c_str());
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

std::uint64_t free_bytes(const fs::path& path) {
    std::string forced = env_or_empty("VMEVAL_PULL_FREE_BYTES");
    if (!forced.empty()) return std::stoull(forced);
    fs::path p = fs::absolute(path);
    std::error_code ec;
    while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
    struct statvfs st {};
    if (::statvfs(p.c_str(), &st) != 0) return UINT64_MAX;  // unknown: let the writes report it
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

PullResult pull(const PullOptions& o) {
    PullResult result;
    const bool offline = hub_offline();
    HubConfig hub = hub_config_from_env();
    const fs::path cache = o.dir.empty() ? hub_cache_dir() : o.dir;

    std::vector<RepoPlan> plans;
    for (const auto& name : o.models) {
        ModelManifest m = manifest_for_name(name);
        if (m.repos.empty()) {
            spdlog::warn("{}: {}", m.model, m.manual);
            result.not_pulled.push_back(m.model + ": " + m.manual);
            continue;
        }
        for (auto spec : m.repos) {
            if (!o.revision.empty()) spec.revision = o.revision;
            bool seen = std::any_of(plans.begin(), plans.end(), [&](const RepoPlan& p) {
                return p.spec.repo == spec.repo && p.spec.revision == spec.revision;
            });
            if (seen) continue;  // two models sharing a base model fetch it once
            RepoPlan plan{m.model, spec, "", {}, {}, {}, false};
            plan.root = o.dir.empty() ? repo_cache_dir(spec.repo, cache)
                                      : o.dir / plain_folder_name(spec.repo);
            if (offline) {
                check_offline(plan, o);
            } else {
                try {
                    plan_online(plan, hub, o);
                } catch (const Error& e) {
                    // One unreachable or gated repository should not hold back the other models.
                    if (e.code() != ErrorCode::Http && e.code() != ErrorCode::Network) throw;
                    spdlog::error("{}", e.what());
                    result.not_pulled.push_back(m.model + " (" + spec.repo + "): " + e.what());
                    continue;
                }
            }
            plans.push_back(std::move(plan));
        }
    }
    if (offline) return result;

    std::vector<const Task*> queue;
    std::uint64_t need = 0;
    for (const auto& p : plans) {
        for (const auto& t : p.tasks) {
            queue.push_back(&t);
            need += t.file.size - std::min(t.file.size, size_or_zero(t.part));
        }
    }
    if (o.dry_run) {
        print_plan(plans);
        return result;
    }
    std::uint64_t avail = free_bytes(cache);
    if (need > avail) {
        throw Error(ErrorCode::Io,
                    "not enough disk space in " + cache.string() + ": the files need " +
                        human_bytes(need) + " and " + human_bytes(avail) +
                        " is free; free some space, or set HF_HOME (or --dir) to a larger disk");
    }
    if (need > 0)
        spdlog::info("pull: {} file(s), {} to download ({} free)", queue.size(), human_bytes(need),
                     human_bytes(avail));

    std::atomic<std::uint64_t> received{0};
    std::atomic<int> done{0};
    std::atomic<size_t> next{0};
    std::mutex mutex;
    std::vector<std::pair<const Task*, std::string>> failures;
    {
        ProgressLine progress(queue.size(), need, received, done);
        auto worker = [&] {
            for (size_t i; (i = next++) < queue.size();) {
                try {
                    fetch(*queue[i], hub, received);
                    ++done;
                } catch (const std::exception& e) {
                    std::lock_guard<std::mutex> lock(mutex);
                    failures.emplace_back(queue[i], http::redact(e.what()));
                }
            }
        };
        std::vector<std::thread> threads;
        int n = std::max(1, std::min<int>(o.jobs, static_cast<int>(queue.size())));
        for (int i = 0; i < n; ++i) threads.emplace_back(worker);
        for (auto& t : threads) t.join();
        if (!queue.empty()) spdlog::info("{}", progress.line());
    }

    for (auto& p : plans) {
        for (const auto& [task, why] : failures) {
            if (task->repo != p.spec.repo) continue;
            if (!p.failed) result.not_pulled.push_back(p.label + " (" + p.spec.repo + "): " + why);
            p.failed = true;
            spdlog::error("{}: {}: {}", p.spec.repo, task->file.path, why);
        }
        if (p.failed) continue;
        for (const auto& f : p.files) {
            bool fetched = std::any_of(p.tasks.begin(), p.tasks.end(),
                                       [&](const Task& t) { return t.file.path == f.path; });
            if (fetched) {
                ++result.files_downloaded;
                result.bytes_downloaded += f.size;
            } else {
                ++result.files_present;
            }
            if (o.dir.empty()) link_snapshot_file(p.root, p.commit, f.path, f.etag);
        }
        if (o.dir.empty()) {
            write_ref(p.root, p.spec.revision, p.commit);
            spdlog::info("{}: {} ready at {}", p.label, p.spec.repo,
                         (p.root / "snapshots" / p.commit).string());
        } else {
            spdlog::info("{}: {} ready at {}", p.label, p.spec.repo, p.root.string());
        }
    }
    return result;
}

}  // namespace vmeval::weights
