#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/report/gallery.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"

namespace vmeval::report {

namespace {

using json = nlohmann::json;
using QuestionKey = std::pair<std::string, std::string>;  // domain, task id

constexpr const char* kTaskSuffix = "_task";
constexpr const char* kContactSheet = "contact_sheet.png";

struct QuestionAcc {
    Question question;
    std::string media_stamp;  // run stamp the question's images were taken from; newest wins
    std::map<std::string, Cell> cells;
};

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

std::vector<fs::directory_entry> sorted_subdirs(const fs::path& dir) {
    std::vector<fs::directory_entry> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) out.push_back(*it);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.path().filename() < b.path().filename();
    });
    return out;
}

std::optional<Media> media_if_present(const fs::path& output_dir, const fs::path& file) {
    if (!is_file(file)) return std::nullopt;
    return Media{file, "media/" + file.lexically_relative(output_dir).generic_string()};
}

std::string sortable_stamp(const runs::RunName& r) {
    char n[16];
    std::snprintf(n, sizeof n, "%06d", r.n);
    return r.stamp + "_" + n;
}

std::string trim(std::string s) {
    const char* ws = " \t\r\n";
    s.erase(s.find_last_not_of(ws) + 1);
    s.erase(0, s.find_first_not_of(ws));
    return s;
}

/// The newest run's verdict, judged from metadata.json and a stat of the video (probing every
/// video would make a large report slow; `generate` does the full check before it skips).
Cell read_cell(const fs::path& output_dir, const fs::path& run_dir, const std::string& model,
               const json* meta) {
    Cell c;
    c.model = model;
    c.run_id = run_dir.filename().string();
    c.contact_sheet = media_if_present(output_dir, run_dir / kContactSheet);
    if (meta == nullptr) {
        c.status = "failed";
        c.error_code = "io";
        c.message = "metadata.json is missing or unreadable";
        return c;
    }
    const json& timings = meta->value("timings", json::object());
    if (timings.is_object() && timings.value("duration_s", json()).is_number()) {
        c.seconds = timings["duration_s"].get<double>();
    }
    if (meta->value("status", "") != "success") {
        c.status = "failed";
        const json& err = meta->value("error", json());
        if (err.is_object()) {
            c.error_code = err.value("code", "");
            c.message = err.value("message", "");
        }
        if (c.message.empty()) c.message = "the run failed without a message";
        return c;
    }
    const json& out = meta->value("output", json());
    fs::path video = run_dir / runs::kVideoDir / runs::kVideoFile;
    std::error_code ec;
    auto bytes = fs::file_size(video, ec);
    if (!out.is_object() || ec || static_cast<long long>(bytes) != out.value("bytes", -1LL)) {
        c.status = "failed";
        c.error_code = "video";
        c.message = "the video is missing or no longer matches metadata.json";
        return c;
    }
    c.status = "done";
    c.width = out.value("width", 0);
    c.height = out.value("height", 0);
    c.frames = out.value("frames", 0);
    c.fps = out.value("fps", 0.0);
    c.video = media_if_present(output_dir, video);
    return c;
}

/// Takes prompt and images from this run when it is newer than the one they came from.
void offer_question_media(QuestionAcc& acc, const fs::path& output_dir, const fs::path& run_dir,
                          const std::string& stamp, const json* meta) {
    if (!acc.media_stamp.empty() && stamp <= acc.media_stamp) return;
    fs::path qdir = run_dir / runs::kQuestionDir;
    auto first = media_if_present(output_dir, qdir / "first_frame.png");
    if (!first) return;
    std::string prompt;
    if (meta != nullptr && meta->contains("question") && (*meta)["question"].is_object()) {
        prompt = (*meta)["question"].value("prompt", "");
    }
    if (prompt.empty()) {
        try {
            prompt = trim(fs_util::read_file(qdir / "prompt.txt"));
        } catch (const Error&) {
        }
    }
    acc.media_stamp = stamp;
    acc.question.first_frame = first;
    acc.question.final_frame = media_if_present(output_dir, qdir / "final_frame.png");
    acc.question.prompt = prompt;
}

/// (model, domain, task id) -> why the model refused it, from the batch summaries, newest last.
std::map<std::tuple<std::string, std::string, std::string>, std::string> read_refusals(
    const fs::path& output_dir) {
    std::map<std::tuple<std::string, std::string, std::string>, std::string> refused;
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(output_dir / runs::kBatchesDir, ec), end; !ec && it != end;
         it.increment(ec)) {
        if (it->path().extension() == ".json") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());  // batch ids start with their start time
    for (const auto& f : files) {
        json j;
        try {
            j = json::parse(fs_util::read_file(f));
        } catch (const std::exception& e) {
            spdlog::debug("report: ignoring {}: {}", f.string(), e.what());
            continue;
        }
        if (!j.is_object() || !j.value("jobs", json()).is_array()) continue;
        for (const auto& job : j["jobs"]) {
            if (!job.is_object()) continue;
            auto key = std::make_tuple(job.value("model", ""), job.value("domain", ""),
                                       job.value("task_id", ""));
            if (job.value("status", "") == "refused") {
                const json& err = job.value("error", json());
                refused[key] = err.is_object() ? err.value("message", "refused") : "refused";
            } else if (job.value("status", "") == "success") {
                refused.erase(key);
            }
        }
    }
    return refused;
}

double median(std::vector<double> v) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

Gallery scan_outputs(const fs::path& output_dir) {
    if (!is_dir(output_dir)) {
        throw Error(ErrorCode::Config, "output folder " + output_dir.string() +
                                           " does not exist: pass the --output-dir that "
                                           "`vmeval generate` wrote to");
    }
    Gallery g;
    g.output_dir = output_dir;
    std::map<QuestionKey, QuestionAcc> questions;
    std::set<std::string> models;

    for (const auto& model_entry : sorted_subdirs(output_dir)) {
        const std::string model = model_entry.path().filename().string();
        if (model.empty() || model[0] == '_' || model[0] == '.') continue;  // _batches, _report
        for (const auto& domain_entry : sorted_subdirs(model_entry.path())) {
            std::string dname = domain_entry.path().filename().string();
            const std::string suffix = kTaskSuffix;
            if (dname.size() <= suffix.size() ||
                dname.compare(dname.size() - suffix.size(), suffix.size(), suffix) != 0) {
                continue;
            }
            const std::string domain = dname.substr(0, dname.size() - suffix.size());
            for (const auto& task_entry : sorted_subdirs(domain_entry.path())) {
                const std::string task_id = task_entry.path().filename().string();
                auto list = runs::list_runs(task_entry.path(), model, task_id);
                if (list.empty()) continue;
                const fs::path run_dir = task_entry.path() / list.back().run_id;
                auto meta = runs::read_metadata(run_dir);
                const json* m = meta ? &*meta : nullptr;

                QuestionAcc& acc = questions[{domain, task_id}];
                const std::string stamp = sortable_stamp(list.back());
                Cell cell;
                try {
                    cell = read_cell(output_dir, run_dir, model, m);
                    offer_question_media(acc, output_dir, run_dir, stamp, m);
                    const json& t = m ? m->value("timings", json::object()) : json::object();
                    g.latest_finished_at =
                        std::max(g.latest_finished_at, t.value("finished_at", ""));
                } catch (const json::exception&) {
                    // Edited by hand into the wrong types: shown like an unreadable file.
                    cell = read_cell(output_dir, run_dir, model, nullptr);
                    offer_question_media(acc, output_dir, run_dir, stamp, nullptr);
                }
                cell.earlier_runs = static_cast<int>(list.size()) - 1;
                acc.cells[model] = std::move(cell);
                g.runs += static_cast<int>(list.size());
                models.insert(model);
            }
        }
    }

    auto refusals = read_refusals(output_dir);
    for (const auto& [key, why] : refusals) {
        const auto& [model, domain, task_id] = key;
        if (model.empty() || domain.empty() || task_id.empty()) continue;
        models.insert(model);
        questions[{domain, task_id}];  // a question only ever refused still gets its row
    }

    g.models.assign(models.begin(), models.end());
    std::set<std::string> domains;
    for (auto& [key, acc] : questions) {
        Question q = std::move(acc.question);
        q.domain = key.first;
        q.task_id = key.second;
        domains.insert(q.domain);
        for (const auto& model : g.models) {
            auto it = acc.cells.find(model);
            if (it != acc.cells.end()) {
                q.cells.push_back(std::move(it->second));
                continue;
            }
            Cell c;
            c.model = model;
            c.status = "skipped";
            auto r = refusals.find({model, q.domain, q.task_id});
            c.message = r != refusals.end() ? r->second : "no run of this model on this question";
            q.cells.push_back(std::move(c));
        }
        g.questions.push_back(std::move(q));
    }
    g.domains.assign(domains.begin(), domains.end());

    for (size_t i = 0; i < g.models.size(); ++i) {
        ModelSummary s;
        s.model = g.models[i];
        std::vector<double> done_s;
        for (const auto& q : g.questions) {
            const Cell& c = q.cells[i];
            if (c.status == "done") {
                ++s.done;
                if (c.seconds >= 0) done_s.push_back(c.seconds);
            } else if (c.status == "failed") {
                ++s.failed;
            } else {
                ++s.skipped;
            }
            if (c.seconds > 0) s.total_s += c.seconds;
        }
        s.median_s = median(done_s);
        g.summary.push_back(s);
    }
    return g;
}

std::vector<Media> media_of(const Gallery& gallery) {
    std::vector<Media> out;
    std::set<std::string> seen;
    auto add = [&](const std::optional<Media>& m) {
        if (m && seen.insert(m->rel).second) out.push_back(*m);
    };
    for (const auto& q : gallery.questions) {
        add(q.first_frame);
        add(q.final_frame);
        for (const auto& c : q.cells) {
            add(c.video);
            add(c.contact_sheet);
        }
    }
    return out;
}

}  // namespace vmeval::report
