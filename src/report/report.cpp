#include "vmeval/report/report.hpp"

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"

namespace vmeval::report {

namespace {

/// Marks a folder as ours: sync_media deletes files under it, so it must never adopt a folder
/// that holds someone else's files.
constexpr const char* kMarkerFile = ".vmeval-report";

void prepare_report_dir(const fs::path& output_dir, const fs::path& report_dir) {
    std::error_code ec;
    if (fs::equivalent(output_dir, report_dir, ec)) {
        throw Error(ErrorCode::Config,
                    "--report-dir " + report_dir.string() +
                        " is the output folder itself; choose a folder of its own "
                        "(the default is <output-dir>/_report)");
    }
    if (fs::exists(report_dir, ec) && !fs::exists(report_dir / kMarkerFile, ec) &&
        !fs::is_empty(report_dir, ec)) {
        throw Error(ErrorCode::Config,
                    report_dir.string() + " exists and is not a vmeval report folder (it has no " +
                        kMarkerFile + "); choose another --report-dir or empty it");
    }
    fs::create_directories(report_dir, ec);
    if (ec)
        throw Error(ErrorCode::Io, "cannot create " + report_dir.string() + ": " + ec.message());
    if (!fs::exists(report_dir / kMarkerFile, ec)) {
        fs_util::write_file_atomic(report_dir / kMarkerFile,
                                   "Made by `vmeval report`; everything here is regenerated.\n");
    }
}

}  // namespace

ReportResult build_report(const ReportOptions& options) {
    Gallery g = scan_outputs(options.output_dir);
    const fs::path report_dir =
        options.report_dir.empty() ? options.output_dir / kDefaultReportDir : options.report_dir;
    prepare_report_dir(options.output_dir, report_dir);

    ReportResult r;
    r.media = sync_media(report_dir, media_of(g));
    r.questions = static_cast<int>(g.questions.size());
    r.models = static_cast<int>(g.models.size());
    r.runs = g.runs;
    r.index = fs::absolute(report_dir / kIndexFile).lexically_normal();

    // Rewritten only when it changed, so a watcher polling an idle tree writes nothing.
    std::string page = render_html(g);
    std::string old;
    try {
        old = fs_util::read_file(r.index);
    } catch (const Error&) {
    }
    if (page != old) {
        fs_util::write_file_atomic(r.index, page);
        r.page_changed = true;
    }
    return r;
}

}  // namespace vmeval::report
