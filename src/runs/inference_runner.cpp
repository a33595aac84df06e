#include "vmeval/runs/inference_runner.hpp"

#include <chrono>
#include <condition_variable>

#include <spdlog/spdlog.h>

#include "vmeval/core/fs.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/core/time.hpp"
#include "vmeval/http/http.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/contact_sheet.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/probe.hpp"

namespace vmeval {

namespace fs = std::filesystem;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

/// A created wrapper and the gate that keeps it within its allowed concurrency.
struct InferenceRunner::Loaded {
    std::unique_ptr<ModelWrapper> wrapper;
    std::mutex mutex;
    std::condition_variable cv;
    int free_slots = 1;
};

namespace {

class SlotGuard {
public:
    explicit SlotGuard(std::mutex& m, std::condition_variable& cv, int& slots)
        : m_(m), cv_(cv), slots_(slots) {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return slots_ > 0; });
        --slots_;
    }
    ~SlotGuard() {
        {
            std::lock_guard<std::mutex> lock(m_);
            ++slots_;
        }
        cv_.notify_one();
    }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;

private:
    std::mutex& m_;
    std::condition_variable& cv_;
    int& slots_;
};

json describe_input(const fs::path& source, const std::string& copied_as, int width = 0, int height = 0) {
    std::error_code ec;
    json j = {{"source", source.string()},
              {"path", copied_as},
              {"sha256", sha256_file(source)},
              {"bytes", static_cast<long long>(fs::file_size(source, ec))}};
    if (width > 0) {
        j["width"] = width;
        j["height"] = height;
    }
    return j;
}

/// Copies the question's files into the run and describes them for metadata.json.
json copy_inputs(const questions::Question& q, const video::Image& first, const video::Image* last,
                 const fs::path& run) {
    fs::path qdir = run / runs::kQuestionDir;
    fs::create_directories(qdir);
    json inputs = json::object();
    fs_util::copy_file(q.first_frame, qdir / "first_frame.png");
    inputs["first_frame"] = describe_input(q.first_frame, "question/first_frame.png", first.width,
                                           first.height);
    // The original wrote the trimmed prompt without a trailing newline; scorers read it back.
    fs_util::write_file_atomic(qdir / "prompt.txt", q.prompt);
    inputs["prompt"] = {{"source", q.prompt_file.string()},
                        {"path", "question/prompt.txt"},
                        {"sha256", sha256_hex(q.prompt)},
                        {"bytes", q.prompt.size()}};
    if (q.has_final_frame()) {
        fs_util::copy_file(q.final_frame, qdir / "final_frame.png");
        inputs["final_frame"] = describe_input(q.final_frame, "question/final_frame.png",
                                               last ? last->width : 0, last ? last->height : 0);
    }
    if (!q.ground_truth.empty()) {
        fs_util::copy_file(q.ground_truth, qdir / "ground_truth.mp4");
        inputs["ground_truth"] = describe_input(q.ground_truth, "question/ground_truth.mp4");
    }
    return inputs;
}

json model_section(const registry::ModelInfo& m) {
    return {{"name", m.name},
            {"family", m.family},
            {"kind", registry::to_string(m.kind)},
            {"provider_model_id", m.provider_model_id}};
}

json phases_json(const std::vector<std::pair<std::string, double>>& phases) {
    json j = json::object();
    for (const auto& [name, s] : phases) j[name] = s;
    return j;
}

}  // namespace

InferenceRunner::InferenceRunner(fs::path output_dir) : output_dir_(std::move(output_dir)) {}
InferenceRunner::~InferenceRunner() = default;

InferenceRunner::Loaded& InferenceRunner::loaded(const registry::ModelInfo& model, const Params& params) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto injected = models_.find(model.name);
    if (injected != models_.end()) return *injected->second;
    // Parameters are fixed when a wrapper is built, so each parameter set gets its own wrapper.
    std::string key = std::string(model.name) + "\n" + json(params.values()).dump();
    auto& slot = models_[key];
    if (!slot) {
        auto l = std::make_unique<Loaded>();
        l->wrapper = registry::create_model(model, params);
        l->free_slots = std::max(1, l->wrapper->max_concurrency());
        slot = std::move(l);
    }
    return *slot;
}

void InferenceRunner::use_wrapper(const std::string& model_name, std::unique_ptr<ModelWrapper> w) {
    auto l = std::make_unique<Loaded>();
    l->free_slots = std::max(1, w->max_concurrency());
    l->wrapper = std::move(w);
    std::lock_guard<std::mutex> lock(mutex_);
    models_[model_name] = std::move(l);
}

ModelWrapper& InferenceRunner::wrapper(const registry::ModelInfo& model, const Params& params) {
    return *loaded(model, params).wrapper;
}

RunResult InferenceRunner::run(const std::string& model_name, const fs::path& image_path,
                               const std::string& prompt, const RunOptions& options) {
    const registry::ModelInfo* model = registry::find_model(model_name);
    if (model == nullptr) {
        auto near = registry::suggest(model_name);
        std::string hint;
        for (const auto& n : near) hint += (hint.empty() ? "" : ", ") + n;
        throw Error(ErrorCode::Usage, "unknown model '" + model_name + "'" +
                                          (hint.empty() ? "" : "; did you mean: " + hint + "?"));
    }
    wrapper(*model, options.params);  // surface an unusable model as an exception, not a result

    questions::Question q;
    q.domain = options.domain;
    q.id = options.task_id.empty() ? image_path.stem().string() : options.task_id;
    q.first_frame = fs::absolute(image_path);
    q.dir = q.first_frame.parent_path();
    q.prompt = prompt;
    q.prompt_file = "";
    if (!options.final_frame.empty()) q.final_frame = fs::absolute(options.final_frame);
    if (!options.ground_truth.empty()) q.ground_truth = fs::absolute(options.ground_truth);
    return run_question(*model, q, options);
}

RunResult InferenceRunner::run_question(const registry::ModelInfo& model,
                                        const questions::Question& q, const RunOptions& options) {
    const auto started_wall = Clock::now();
    const auto started = SteadyClock::now();
    RunResult r;
    auto elapsed = [&] { return seconds_between(started, SteadyClock::now()); };
    auto refuse = [&](ErrorCode code, const std::string& message) {
        r.error_code = code;
        r.error_message = http::redact(message);
        r.seconds = elapsed();
        return r;
    };

    // Checks that need no run folder: a question that cannot be attempted leaves nothing behind.
    Loaded* l = nullptr;
    try {
        l = &loaded(model, options.params);
    } catch (const Error& e) {
        return refuse(e.code(), e.what());
    }
    if (l->wrapper->needs_final_frame() && !q.has_final_frame()) {
        return refuse(ErrorCode::InvalidQuestion,
                      (q.dir / "final_frame.png").string() + ": " + model.name +
                          " needs final_frame.png and this question has none");
    }
    video::Image first, last;
    try {
        first = video::load_png(q.first_frame);
        if (q.has_final_frame()) last = video::load_png(q.final_frame);
    } catch (const Error& e) {
        return refuse(e.code(), e.what());
    }

    fs::path tdir = runs::task_dir(output_dir_, model.name, q.domain, q.id);
    runs::Reservation res;
    try {
        runs::remove_stale_partials(tdir);
        res = runs::reserve_run(tdir, model.name, q.id, started_wall);
    } catch (const Error& e) {
        return refuse(e.code(), e.what());
    }
    r.run_id = res.run_id;
    r.attempted = true;

    json meta = {{"schema", runs::kMetadataSchema},
                 {"vmeval", runs::vmeval_info()},
                 {"run_id", res.run_id},
                 {"status", "failed"},
                 {"error", nullptr},
                 {"model", model_section(model)},
                 {"question", {{"domain", q.domain}, {"task_id", q.id}, {"prompt", q.prompt},
                               {"source_dir", q.dir.string()}}},
                 {"request", {{"seed", options.seed}, {"params", options.params.values()}}},
                 {"parameters", json::object()},
                 {"provider", json::object()},
                 {"timings", json::object()},
                 {"output", nullptr},
                 {"host", runs::host_info()}};
    if (!options.batch_id.empty()) meta["batch_id"] = options.batch_id;

    std::vector<std::pair<std::string, double>> phases;
    json model_phases = json::object();
    auto mark = SteadyClock::now();
    auto phase_done = [&](const char* name) {
        auto now = SteadyClock::now();
        phases.emplace_back(name, seconds_between(mark, now));
        mark = now;
    };
    fs::path video_path = res.partial / runs::kVideoDir / runs::kVideoFile;

    try {
        meta["question"]["inputs"] = copy_inputs(q, first, q.has_final_frame() ? &last : nullptr, res.partial);
        fs::create_directories(video_path.parent_path());
        phase_done("prepare");

        GenerationRequest req;
        req.first_frame = &first;
        req.final_frame = q.has_final_frame() ? &last : nullptr;
        req.first_frame_path = q.first_frame;
        req.final_frame_path = q.final_frame;
        req.prompt = q.prompt;
        req.seed = options.seed;
        req.video_path = video_path;
        req.cancel = options.cancel;
        GenerationResult gen;
        {
            SlotGuard slot(l->mutex, l->cv, l->free_slots);
            if (req.cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
            mark = SteadyClock::now();  // waiting for a slot is not generation time
            gen = l->wrapper->generate(req);
        }
        phase_done("generate");
        meta["parameters"] = gen.parameters;
        meta["provider"] = gen.provider;
        if (!gen.resources.empty()) meta["resources"] = gen.resources;
        model_phases = phases_json(gen.phases);

        auto probe = video::probe_video(video_path);
        meta["output"] = {{"video", std::string(runs::kVideoDir) + "/" + runs::kVideoFile},
                          {"container", probe.container},
                          {"codec", probe.codec},
                          {"pixel_format", probe.pixel_format},
                          {"width", probe.width},
                          {"height", probe.height},
                          {"frames", probe.frames},
                          {"fps", probe.fps},
                          {"duration_s", probe.duration_s},
                          {"bytes", static_cast<long long>(probe.bytes)},
                          {"sha256", sha256_file(video_path)}};
        phase_done("probe");
        if (options.contact_sheet) {
            // A convenience for people looking at results: failing to make it never fails the run.
            const fs::path sheet = res.partial / video::kContactSheetFile;
            try {
                const double generate_s = phases[1].second;  // prepare, generate, probe
                video::RunSheetRequest s{video_path, static_cast<int>(probe.frames), probe.fps,
                                         &first, q.has_final_frame() ? &last : nullptr, model.name,
                                         q.domain + "/" + q.id, q.prompt, generate_s,
                                         options.contact_sheet_frames};
                video::write_contact_sheet(sheet, s);
                meta["contact_sheet"] = video::kContactSheetFile;
            } catch (const std::exception& e) {
                std::error_code ec;
                fs::remove(sheet, ec);
                // The message names the video where it was while the run was being assembled.
                std::string why = e.what();
                for (size_t at; (at = why.find(res.partial.string())) != std::string::npos;) {
                    why.replace(at, res.partial.string().size(), res.final.string());
                }
                meta["contact_sheet_error"] = http::redact(why);
                spdlog::warn("{} {}: no contact sheet: {}", model.name, q.id,
                             meta["contact_sheet_error"].get<std::string>());
            }
            phase_done("contact_sheet");
        }
        meta["status"] = "success";
        r.success = true;
    } catch (const Error& e) {
        if (e.code() == ErrorCode::Cancelled) {
            std::error_code ec;
            runs::discard_folder(res.partial);
            r.attempted = false;
            return refuse(ErrorCode::Cancelled, e.what());
        }
        // Messages may quote provider answers; keys never reach metadata.json or the summary.
        r.error_code = e.code();
        r.error_message = http::redact(e.what());
        meta["error"] = {{"code", to_string(e.code())}, {"message", r.error_message}};
    } catch (const std::exception& e) {
        r.error_code = ErrorCode::Internal;
        r.error_message = http::redact(e.what());
        meta["error"] = {{"code", to_string(ErrorCode::Internal)}, {"message", r.error_message}};
    }

    if (!r.success) {
        // A failed run must not hold anything that looks like a generated video.
        std::error_code ec;
        fs::remove_all(res.partial / runs::kVideoDir, ec);
        fs::create_directories(res.partial / runs::kVideoDir, ec);
        meta["output"] = nullptr;
    }
    const auto finished_wall = Clock::now();
    r.seconds = elapsed();
    meta["timings"] = {{"started_at", iso8601_utc(started_wall)},
                       {"finished_at", iso8601_utc(finished_wall)},
                       {"duration_s", r.seconds},
                       {"phases", phases_json(phases)},
                       {"model_phases", model_phases}};
    if (options.still_claimed && !options.still_claimed()) {
        std::error_code ec;
        runs::discard_folder(res.partial);
        r.success = false;
        r.attempted = false;
        r.claim_lost = true;
        r.run_id.clear();
        r.error_code = ErrorCode::Cancelled;
        r.error_message = "another worker took over this question (our claim went stale); run dropped";
        return r;
    }
    try {
        runs::write_metadata(res.partial, meta);
        runs::publish_run(res);
    } catch (const Error& e) {
        std::error_code ec;
        runs::discard_folder(res.partial);
        r.success = false;
        r.run_id.clear();
        r.error_code = e.code();
        r.error_message = e.what();
        r.metadata = nullptr;
        return r;
    }
    r.run_dir = res.final;
    if (r.success) r.video_path = res.final / runs::kVideoDir / runs::kVideoFile;
    r.metadata = std::move(meta);
    return r;
}

}  // namespace vmeval
