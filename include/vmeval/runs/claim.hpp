#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <condition_variable>

namespace vmeval::runs {

namespace fs = std::filesystem;

/// The folder inside `<output>/<model>/<domain>_task/<task_id>/` that says a worker is generating
/// this question. It holds a file `owner`: "<host> <pid> <token>"; its modification time is the
/// owner's heartbeat.
inline constexpr const char* kQuestionClaimDir = ".working";

/// How long a claim lives without a heartbeat, and how often a live worker beats.
struct ClaimTiming {
    std::chrono::milliseconds stale_after{std::chrono::minutes(10)};
    std::chrono::milliseconds heartbeat{std::chrono::seconds(30)};
    /// VMEVAL_CLAIM_STALE_S (seconds, > 0; the heartbeat is a tenth of it, at most 30 s).
    /// Throws Error(Config) for a value that is not a positive number.
    static ClaimTiming from_env();
};

/// Who holds a claim, as read from its owner file.
struct ClaimHolder {
    std::string host;
    long pid = 0;
    std::string token;
    std::chrono::seconds heartbeat_age{0};
    std::string describe() const;  ///< "pid 123 on node7, heartbeat 4 s ago"
};

/// One worker's hold on one question. Made with QuestionClaim::try_acquire; released by the
/// destructor. Claims are folders created by rename(2), which is atomic on local file systems and
/// on NFS, so two workers never both hold one.
class QuestionClaim {
public:
    /// Takes the claim of `task_dir` when it is free or stale (its holder is a dead process on this
    /// host, or its heartbeat is older than timing.stale_after). Returns nullptr and fills `holder`
    /// when a live worker holds it. Leftovers of a stale holder (its claim and its unfinished runs)
    /// are removed. Throws Error(Io) when the folder cannot be written.
    static std::unique_ptr<QuestionClaim> try_acquire(const fs::path& task_dir, const ClaimTiming& timing,
                                                      ClaimHolder* holder = nullptr);
    ~QuestionClaim();
    QuestionClaim(const QuestionClaim&) = delete;
    QuestionClaim& operator=(const QuestionClaim&) = delete;

    /// True while the owner file still carries our token (false once another worker took over).
    bool held() const;
    /// Refreshes the heartbeat; false when the claim is no longer ours.
    bool beat();
    const fs::path& task_dir() const { return task_dir_; }

private:
    QuestionClaim(fs::path task_dir, std::string token);
    fs::path task_dir_;
    std::string token_;
};

/// Removes the claim of `task_dir` when its holder is a dead process on this host (a worker killed
/// after its run was published leaves one beside a finished question).
void remove_dead_claim(const fs::path& task_dir);

/// Reads the holder of a claim folder; nullopt when there is no readable owner file.
std::optional<ClaimHolder> read_claim_holder(const fs::path& claim_dir);

/// Beats every registered claim on a background thread, so that a long generation keeps its claim.
class Heartbeat {
public:
    explicit Heartbeat(std::chrono::milliseconds interval);
    ~Heartbeat();
    void add(QuestionClaim* claim);
    void remove(QuestionClaim* claim);

private:
    void loop();
    std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<QuestionClaim*> claims_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace vmeval::runs
