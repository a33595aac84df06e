#include "vmeval/runs/batch_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/core/log.hpp"
#include "vmeval/core/time.hpp"
#include "vmeval/runs/claim.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/runs/progress.hpp"
#include "vmeval/runs/resume.hpp"

namespace vmeval {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

enum class Plan { Run, Retry, Skip };

struct Job {
    const registry::ModelInfo* model = nullptr;
    const questions::Question* question = nullptr;
    Plan plan = Plan::Run;
    std::string previous_run;  ///< latest run folder when there is one
    std::string previous_why;
    // Filled when it runs:
    std::string status = "not_run";  ///< success, failed, refused, skipped, not_run
    std::string note;                ///< why it was skipped when another worker did it
    RunResult result;
};

/// Keeps the questions of shard `index` of `count`: positions in the sorted list of every question
/// folder (valid or not), so each folder, broken ones included, belongs to exactly one shard.
void apply_shard(questions::Discovery& d, int index, int count) {
    if (count <= 1) return;
    std::set<std::pair<std::string, std::string>> keys;
    for (const auto& q : d.questions) keys.insert({q.domain, q.id});
    for (const auto& p : d.problems) keys.insert({p.domain, p.id});
    std::set<std::pair<std::string, std::string>> mine;
    int pos = 0;
    for (const auto& k : keys) {
        if (pos++ % count == index) mine.insert(k);
    }
    auto theirs = [&](const std::string& domain, const std::string& id) { return !mine.count({domain, id}); };
    d.questions.erase(std::remove_if(d.questions.begin(), d.questions.end(),
                                     [&](const questions::Question& q) { return theirs(q.domain, q.id); }),
                      d.questions.end());
    d.problems.erase(std::remove_if(d.problems.begin(), d.problems.end(),
                                    [&](const questions::Problem& p) { return theirs(p.domain, p.id); }),
                     d.problems.end());
}

/// Runs fn(i) for i in [0, n) on `threads` threads, in order of i.
template <typename Fn>
void parallel_for(size_t n, int threads, Fn fn) {
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next++; i < n; i = next++) fn(i);
    };
    int t = std::max(1, std::min<int>(threads, static_cast<int>(n)));
    std::vector<std::thread> pool;
    for (int k = 1; k < t; ++k) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
}

std::string batch_id_now(Clock::time_point now) {
    return run_stamp_local(now) + "_" + std::to_string(::getpid());
}

std::string job_label(const Job& j) {
    return std::string(j.model->name) + " " + j.question->domain + "/" + j.question->id;
}

const char* plan_name(Plan p) {
    switch (p) {
        case Plan::Run: return "run";
        case Plan::Retry: return "retry";
        case Plan::Skip: return "skip";
    }
    return "run";
}

json job_json(const Job& j) {
    json e = {{"model", j.model->name},
              {"domain", j.question->domain},
              {"task_id", j.question->id},
              {"plan", plan_name(j.plan)},
              {"status", j.status}};
    if (!j.result.run_id.empty()) e["run_id"] = j.result.run_id;
    if (j.plan == Plan::Skip || j.plan == Plan::Retry) e["previous_run"] = j.previous_run;
    if (!j.note.empty()) e["note"] = j.note;
    if (j.status == "success" || j.status == "failed" || j.status == "refused") {
        e["seconds"] = j.result.seconds;
    }
    if (j.result.error_code) {
        e["error"] = {{"code", to_string(*j.result.error_code)}, {"message", j.result.error_message}};
    }
    return e;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

json build_summary(const BatchOptions& o, const std::string& batch_id, const questions::Discovery& d,
                   const std::vector<Job>& jobs, Clock::time_point started, double seconds,
                   bool interrupted) {
    json by_model = json::object();
    json totals = {{"jobs", jobs.size()}, {"success", 0}, {"failed", 0}, {"refused", 0},
                   {"skipped", 0}, {"not_run", 0}};
    std::map<std::string, std::vector<double>> times;
    for (const auto* m : o.models) {
        by_model[m->name] = {{"success", 0}, {"failed", 0}, {"refused", 0}, {"skipped", 0},
                             {"not_run", 0}, {"median_s", 0.0}, {"total_s", 0.0}};
    }
    json job_list = json::array();
    for (const auto& j : jobs) {
        auto& bm = by_model[j.model->name];
        bm[j.status] = bm[j.status].get<int>() + 1;
        totals[j.status] = totals[j.status].get<int>() + 1;
        if (j.status == "success" || j.status == "failed") {
            times[j.model->name].push_back(j.result.seconds);
            bm["total_s"] = bm["total_s"].get<double>() + j.result.seconds;
        }
        job_list.push_back(job_json(j));
    }
    for (auto& [name, t] : times) by_model[name]["median_s"] = median(t);
    json problems = json::array();
    for (const auto& p : d.problems) {
        problems.push_back({{"domain", p.domain}, {"task_id", p.id}, {"file", p.file.string()},
                            {"message", p.message}});
    }
    json models = json::array();
    for (const auto* m : o.models) models.push_back(m->name);
    return {{"schema", "vmeval.batch/1"},
            {"batch_id", batch_id},
            {"vmeval", runs::vmeval_info()},
            {"command", o.command_line},
            {"questions_dir", fs::absolute(o.questions_dir).string()},
            {"output_dir", fs::absolute(o.output_dir).string()},
            {"models", models},
            {"dry_run", o.dry_run},
            {"force", o.force},
            {"jobs_in_parallel", o.jobs},
            {"shard", o.shard_count > 1 ? json{{"index", o.shard_index}, {"count", o.shard_count}} : json(nullptr)},
            {"seed", o.seed},
            {"started_at", iso8601_utc(started)},
            {"duration_s", seconds},
            {"interrupted", interrupted},
            {"questions", d.questions.size()},
            {"invalid_questions", d.problems.size()},
            {"unmatched_task_ids", d.unmatched_task_ids},
            {"unmatched_domains", d.unmatched_domains},
            {"totals", totals},
            {"by_model", by_model},
            {"problems", problems},
            {"jobs", job_list}};
}

void report_problems(const questions::Discovery& d) {
    for (const auto& p : d.problems) spdlog::warn("invalid question: {}: {}", p.file.string(), p.message);
    for (const auto& t : d.unmatched_task_ids) spdlog::warn("--task-id {} matched no question", t);
    for (const auto& t : d.unmatched_domains) spdlog::warn("--domain {} matched no domain folder", t);
}

void print_plan(const BatchOptions& o, const std::vector<Job>& jobs, const questions::Discovery& d) {
    std::printf("Dry run: %zu question(s), %zu invalid, %zu model(s); nothing will be written.\n",
                d.questions.size(), d.problems.size(), o.models.size());
    for (const auto* m : o.models) {
        size_t run = 0, retry = 0, skip = 0;
        for (const auto& j : jobs) {
            if (j.model != m) continue;
            (j.plan == Plan::Run ? run : j.plan == Plan::Retry ? retry : skip) += 1;
        }
        std::printf("  %-26s generate %zu, retry %zu (latest run failed), skip %zu (already done)\n",
                    m->name, run, retry, skip);
    }
    if (!o.verbose) return;
    for (const auto& j : jobs) {
        std::printf("    %-5s %s%s%s\n", plan_name(j.plan), job_label(j).c_str(),
                    j.previous_run.empty() ? "" : "  (latest: ",
                    j.previous_run.empty() ? "" : (j.previous_run + ")").c_str());
    }
}

}  // namespace

namespace {

/// The batch's --param values, plus --device and --precision for local models.
Params params_for(const registry::ModelInfo& model, const BatchOptions& o) {
    Params p = o.params;
    if (model.kind == registry::Kind::Local) {
        if (!p.has("device")) p.set("device", o.device);
        if (!p.has("precision")) p.set("precision", o.precision);
    }
    return p;
}

}  // namespace

BatchReport run_batch(const BatchOptions& o) {
    if (o.models.empty()) throw Error(ErrorCode::Usage, "no model selected (use --model)");
    if (o.jobs < 1) throw Error(ErrorCode::Usage, "--jobs must be at least 1");
    const auto started = Clock::now();
    const auto t0 = std::chrono::steady_clock::now();

    // Every model must be able to run before the first question starts: a batch that cannot run
    // should say so now, not after ten hours.
    InferenceRunner own_runner(o.output_dir);
    InferenceRunner& runner = o.runner != nullptr ? *o.runner : own_runner;
    for (const auto* m : o.models) {
        if (!o.dry_run) {
            runner.wrapper(*m, params_for(*m, o));
        } else {
            auto a = registry::check_availability(*m);
            for (const auto& why : a.missing) spdlog::warn("{} cannot run here: {}", m->name, why);
        }
    }

    if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
        throw Error(ErrorCode::Usage, "--shard " + std::to_string(o.shard_index) + "/" +
                                          std::to_string(o.shard_count) +
                                          ": expected I/N with 0 <= I < N, e.g. --shard 0/4");
    }
    const runs::ClaimTiming timing = runs::ClaimTiming::from_env();

    questions::Discovery d = questions::discover(o.questions_dir, o.discovery);
    const size_t all_questions = d.questions.size() + d.problems.size();
    apply_shard(d, o.shard_index, o.shard_count);
    report_problems(d);
    if (d.questions.empty() && d.problems.empty() && all_questions > 0) {
        spdlog::warn("shard {}/{} holds none of the {} question(s)", o.shard_index, o.shard_count, all_questions);
    } else if (d.questions.empty() && d.problems.empty()) {
        throw Error(ErrorCode::Config, "no questions found under " + o.questions_dir.string() +
                                           ": expected <domain>_task/<task_id>/ folders holding "
                                           "first_frame.png and prompt.txt");
    }

    std::vector<Job> jobs;
    for (const auto* m : o.models) {
        for (const auto& q : d.questions) {
            Job j;
            j.model = m;
            j.question = &q;
            jobs.push_back(std::move(j));
        }
    }
    // Planning reads every earlier run's metadata and probes its video; spread it over threads.
    int plan_threads = std::max<int>(o.jobs, static_cast<int>(std::thread::hardware_concurrency()));
    parallel_for(jobs.size(), plan_threads, [&](size_t i) {
        Job& j = jobs[i];
        fs::path tdir = runs::task_dir(o.output_dir, j.model->name, j.question->domain, j.question->id);
        // Leftovers of killed workers go now, also beside runs that will be skipped.
        if (!o.dry_run) {
            runs::remove_stale_partials(tdir);
            runs::remove_dead_claim(tdir);
        }
        auto past = runs::latest_run(tdir, j.model->name, j.question->id);
        if (!past) return;
        j.previous_run = past->run_id;
        j.previous_why = past->why;
        j.plan = past->success && !o.force ? Plan::Skip : (past->success ? Plan::Run : Plan::Retry);
    });

    const std::string batch_id = batch_id_now(started);
    BatchReport report;
    if (o.dry_run) {
        print_plan(o, jobs, d);
        report.summary = build_summary(o, batch_id, d, jobs, started,
                                       seconds_between(t0, std::chrono::steady_clock::now()), false);
        report.exit_code = 0;
        return report;
    }

    fs::path batches = o.output_dir / runs::kBatchesDir;
    std::error_code ec;
    fs::create_directories(batches, ec);
    if (ec) throw Error(ErrorCode::Config, "cannot create " + batches.string() + ": " + ec.message());
    report.log_path = batches / (batch_id + ".log");
    logging::open_file(report.log_path);
    spdlog::debug("batch {}: {} question(s), {} model(s), {} job(s), --jobs {}", batch_id,
                  d.questions.size(), o.models.size(), jobs.size(), o.jobs);

    size_t skipped = 0;
    for (auto& j : jobs) {
        if (j.plan != Plan::Skip) continue;
        j.status = "skipped";
        ++skipped;
        spdlog::debug("skip {}: latest run {} succeeded", job_label(j), j.previous_run);
    }
    if (skipped > 0 && !o.quiet) {
        spdlog::info("{} of {} job(s) already done, skipping them (--force makes new runs)", skipped,
                     jobs.size());
    }

    RunOptions ro;
    ro.seed = o.seed;
    ro.params = o.params;
    ro.batch_id = batch_id;
    ro.cancel = o.cancel;
    ro.contact_sheet = o.contact_sheet;
    ro.contact_sheet_frames = o.contact_sheet_frames;
    std::atomic<bool> interrupted{false};
    auto cancelled = [&] { return o.cancel && o.cancel->load(); };
    {
        runs::Progress progress(jobs.size(), skipped, !o.quiet);
        runs::Heartbeat heartbeat(timing.heartbeat);
        // One job under the question's claim. False when another live worker holds the claim.
        auto attempt = [&](size_t i) -> bool {
            Job& j = jobs[i];
            if (cancelled()) {
                interrupted = true;
                return true;
            }
            fs::path tdir = runs::task_dir(o.output_dir, j.model->name, j.question->domain, j.question->id);
            runs::ClaimHolder holder;
            std::unique_ptr<runs::QuestionClaim> claim;
            try {
                claim = runs::QuestionClaim::try_acquire(tdir, timing, &holder);
            } catch (const Error& e) {
                j.result.error_code = e.code();
                j.result.error_message = e.what();
                j.status = "refused";
                progress.job_finished(false);
                spdlog::error("{}: FAILED ({}): {}", job_label(j), to_string(e.code()), e.what());
                return true;
            }
            if (!claim) {
                spdlog::debug("{}: another worker is on it ({})", job_label(j), holder.describe());
                return false;
            }
            // Another worker may have run it between our planning and our claim.
            auto latest = runs::latest_run(tdir, j.model->name, j.question->id);
            if ((latest ? latest->run_id : std::string()) != j.previous_run) {
                j.status = "skipped";
                j.note = latest->success ? "done by another worker (" + latest->run_id + ")"
                                         : "another worker's run " + latest->run_id +
                                               " failed; the next batch retries it";
                progress.job_skipped();
                spdlog::debug("skip {}: {}", job_label(j), j.note);
                return true;
            }
            heartbeat.add(claim.get());
            RunOptions mine = ro;
            const runs::QuestionClaim* held = claim.get();
            mine.still_claimed = [held] { return held->held(); };
            j.result = runner.run_question(*j.model, *j.question, mine);
            heartbeat.remove(claim.get());
            claim.reset();
            if (!j.result.attempted) {
                // A refused question leaves no folders (the claim had to create them); only empty
                // ones go, so another worker's run is never touched.
                std::error_code rm_ec;
                for (fs::path p = tdir; p != o.output_dir && fs::remove(p, rm_ec);) p = p.parent_path();
            }

            const auto& r = j.result;
            if (r.claim_lost) {
                j.status = "not_run";
                j.note = r.error_message;
                spdlog::warn("{}: {}", job_label(j), r.error_message);
                return true;
            }
            if (r.error_code == ErrorCode::Cancelled) {
                interrupted = true;
                j.status = "not_run";
                return true;
            }
            j.status = r.success ? "success" : (r.attempted ? "failed" : "refused");
            progress.job_finished(r.success);
            std::string where = "[" + std::to_string(progress.position()) + "/" +
                                std::to_string(jobs.size()) + "] " + job_label(j);
            if (r.success) {
                if (!o.quiet) spdlog::info("{}: done in {} -> {}", where, human_duration(r.seconds),
                                           r.run_dir.string());
            } else {
                spdlog::error("{}: FAILED ({}): {}", where, to_string(*r.error_code), r.error_message);
            }
            return true;
        };

        std::mutex busy_mutex;
        std::vector<size_t> busy;
        auto pass = [&](const std::vector<size_t>& todo) {
            std::vector<size_t> again;
            parallel_for(todo.size(), o.jobs, [&](size_t k) {
                if (attempt(todo[k])) return;
                std::lock_guard<std::mutex> lock(busy_mutex);
                again.push_back(todo[k]);
            });
            std::sort(again.begin(), again.end());
            return again;
        };
        std::vector<size_t> todo;
        for (size_t i = 0; i < jobs.size(); ++i) {
            if (jobs[i].plan != Plan::Skip) todo.push_back(i);
        }
        busy = pass(todo);
        // Questions that other workers hold: wait until they finish them (then they are skipped) or
        // go silent (then their claims are taken over), so that this worker ends with none left.
        if (!busy.empty()) {
            spdlog::info("{} question(s) are being generated by other workers; waiting for them", busy.size());
        }
        const auto poll = std::clamp<std::chrono::milliseconds>(timing.heartbeat / 2, std::chrono::milliseconds(50),
                                                                std::chrono::milliseconds(2000));
        while (!busy.empty() && !cancelled()) {
            for (auto waited = std::chrono::milliseconds(0); waited < poll && !cancelled();
                 waited += std::chrono::milliseconds(50)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            busy = pass(busy);
        }
        if (!busy.empty()) interrupted = true;
    }
    if (o.cancel && o.cancel->load()) interrupted = true;

    double seconds = seconds_between(t0, std::chrono::steady_clock::now());
    report.summary = build_summary(o, batch_id, d, jobs, started, seconds, interrupted);
    report.summary_path = batches / (batch_id + ".json");
    fs_util::write_file_atomic(report.summary_path, report.summary.dump(2) + "\n");
    spdlog::debug("batch {} finished in {:.3f}s", batch_id, seconds);
    logging::close_file();

    const auto& t = report.summary["totals"];
    bool any_failed = t["failed"].get<int>() > 0 || t["refused"].get<int>() > 0 || !d.problems.empty();
    report.exit_code = interrupted ? 130 : (any_failed ? 1 : 0);
    return report;
}

}  // namespace vmeval
