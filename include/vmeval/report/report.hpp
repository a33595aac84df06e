#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vmeval/report/gallery.hpp"

namespace vmeval::report {

/// Where the report goes inside the output root unless told otherwise.
inline constexpr const char* kDefaultReportDir = "_report";
/// The page, opened straight from disk.
inline constexpr const char* kIndexFile = "index.html";

/// What a pass over the media did.
struct MediaSync {
    int linked = 0;   ///< hard links made (output and report on one file system)
    int copied = 0;   ///< copies made otherwise
    int kept = 0;     ///< already in place and unchanged
    int removed = 0;  ///< files of runs that are gone or no longer the newest
};

/// Makes `<report_dir>/<rel>` of every wanted file the same as its source (hard link, else a copy
/// with the source's mtime), each placed by rename, and deletes every other file under
/// `<report_dir>/media`. Unchanged files are left alone. Throws Error(Io) naming the file.
MediaSync sync_media(const fs::path& report_dir, const std::vector<Media>& wanted);

/// Text for HTML content and quoted attribute values: & < > " ' escaped.
std::string html_escape(std::string_view text);
/// A '/'-separated relative path as a URL: each segment percent-encoded, so '#', '?', '%' and
/// spaces in task ids keep working from file://.
std::string url_path(std::string_view rel);

/// The whole self-contained page (CSS and the filter script inline; media by relative URL).
std::string render_html(const Gallery& gallery);

/// Options of one report pass.
struct ReportOptions {
    fs::path output_dir;
    fs::path report_dir;  ///< empty: `<output_dir>/_report`
};

/// What a pass did.
struct ReportResult {
    fs::path index;  ///< absolute path of index.html
    int questions = 0, models = 0, runs = 0;
    MediaSync media;
    bool page_changed = false;  ///< index.html was (re)written
};

/// Scans the output root, brings the media up to date and rewrites index.html atomically when it
/// changed. Throws Error(Config) when the output root is missing, Error(Io) on write failures.
ReportResult build_report(const ReportOptions& options);

}  // namespace vmeval::report
