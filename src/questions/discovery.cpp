#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/questions/question.hpp"

namespace vmeval::questions {

namespace {

const std::string kSuffix = "_task";
const std::string kRootHelp =
    "pass --questions-dir pointing at a folder that holds <domain>_task/ folders";

bool ends_with_suffix(const std::string& name) {
    return name.size() >= kSuffix.size() &&
           name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

// Absolute and without a trailing separator, so that filename() names the folder even for
// "questions/maze_task/" or ".". Normalised only when there is no "..": the kernel resolves
// "link/.." through the link's target, so dropping the pair lexically could name another folder.
fs::path clean(const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    bool has_dotdot =
        std::any_of(abs.begin(), abs.end(), [](const fs::path& c) { return c == ".."; });
    if (!has_dotdot) abs = abs.lexically_normal();
    if (!abs.has_filename() && abs.has_relative_path()) abs = abs.parent_path();
    return abs;
}

struct Listing {
    std::vector<std::string> names;  // non-hidden entries, byte order
    std::error_code error;
};

Listing list_dir(const fs::path& dir) {
    Listing out;
    fs::directory_iterator it(dir, out.error);
    for (fs::directory_iterator end; !out.error && it != end; it.increment(out.error)) {
        std::string name = it->path().filename().string();
        if (!name.empty() && name[0] != '.') out.names.push_back(std::move(name));
    }
    std::sort(out.names.begin(), out.names.end());
    return out;
}

bool exists_no_follow(const fs::path& p) {
    std::error_code ec;
    return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(fs::status(p, ec));
}

// A symlink whose target is gone: listed so the user learns about it rather than seeing a
// question silently vanish.
bool is_dangling_link(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return false;
    return fs::status(p, ec).type() == fs::file_type::not_found;
}

// A domain folder linked in from elsewhere is reported once, rather than once per task in it.
bool links_outside(const fs::path& dir, const fs::path& root, fs::path& real) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(dir, ec))) return false;
    real = fs::canonical(dir, ec);
    return !ec && !fs_util::is_within(real, root);
}

bool has_domain_folder(const fs::path& dir) {
    for (const auto& name : list_dir(dir).names) {
        if (ends_with_suffix(name) && name != kSuffix && is_dir(dir / name)) return true;
    }
    return false;
}

// Whether `value` (from --domain, "maze" or "maze_task") selects the domain folder.
bool selects_domain(const std::string& value, const std::string& domain) {
    return value == domain || value == domain + kSuffix;
}

void note_match(const std::vector<std::string>& values, std::vector<bool>& matched,
                const std::string& name, bool (*match)(const std::string&, const std::string&)) {
    for (size_t i = 0; i < values.size(); ++i) {
        if (match(values[i], name)) matched[i] = true;
    }
}

bool same(const std::string& a, const std::string& b) { return a == b; }

bool wanted(const std::vector<std::string>& values, const std::string& name,
            bool (*match)(const std::string&, const std::string&)) {
    if (values.empty()) return true;
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return match(v, name); });
}

std::vector<std::string> unmatched(const std::vector<std::string>& values,
                                   const std::vector<bool>& matched) {
    std::vector<std::string> out;
    for (size_t i = 0; i < values.size(); ++i) {
        if (!matched[i] && std::find(out.begin(), out.end(), values[i]) == out.end()) {
            out.push_back(values[i]);
        }
    }
    return out;
}

// Users often point --questions-dir one level too deep or too shallow (the original tool had the
// same trap); a tree with no domain folder gets one problem naming the folder to pass instead.
bool diagnose_misplaced_root(const fs::path& root, const Listing& listing, Discovery& result) {
    const std::string name = root.filename().string();
    const fs::path parent = root.parent_path();
    const char* task_file = exists_no_follow(root / "first_frame.png") ? "first_frame.png"
                            : exists_no_follow(root / "prompt.txt")    ? "prompt.txt"
                                                                       : nullptr;
    if (task_file != nullptr) {
        std::string parent_name = parent.filename().string();
        bool in_domain = ends_with_suffix(parent_name) && parent_name != kSuffix;
        fs::path suggest = in_domain ? parent.parent_path() : parent;
        result.problems.push_back(Problem{
            in_domain ? parent_name.substr(0, parent_name.size() - kSuffix.size()) : "", name, root,
            "this looks like a single task folder (it holds " + std::string(task_file) +
                "), but --questions-dir must point at the folder that CONTAINS the <domain>_task "
                "folders" +
                (in_domain ? ": pass --questions-dir " + suggest.string()
                           : ": put it at <questions>/<domain>_task/" + name +
                                 "/ and pass --questions-dir <questions>")});
        return true;
    }
    if (ends_with_suffix(name) && name != kSuffix) {
        result.problems.push_back(Problem{
            name.substr(0, name.size() - kSuffix.size()), "", root,
            "this looks like a single domain folder (its name ends in _task), but --questions-dir "
            "must point at the folder that CONTAINS the <domain>_task folders: pass "
            "--questions-dir " + parent.string()});
        return true;
    }
    for (const auto& child : listing.names) {
        const fs::path sub = root / child;
        if (!is_dir(sub)) continue;
        if (has_domain_folder(sub)) {
            result.problems.push_back(Problem{
                "", "", root,
                "holds no <domain>_task folders, but its subfolder " + child +
                    " does: pass --questions-dir " + sub.string()});
            return true;
        }
        if (exists_no_follow(sub / "first_frame.png")) {
            result.problems.push_back(Problem{
                "", child, root,
                "holds task folders (such as " + child + ") directly, but each task must sit in a "
                "<domain>_task folder: move them into " + (root / ("<domain>" + kSuffix)).string() +
                    "/ and pass --questions-dir " + root.string()});
            return true;
        }
    }
    return false;
}

void walk_domain(const fs::path& root, const std::string& domain, const fs::path& domain_dir,
                 const DiscoveryOptions& options, std::vector<bool>& task_matched,
                 Discovery& result) {
    Listing tasks = list_dir(domain_dir);
    if (tasks.error) {
        result.problems.push_back(Problem{
            domain, "", domain_dir,
            "cannot list the domain folder: " + tasks.error.message() +
                ": give the user running vmeval read access to it"});
        return;
    }
    for (const auto& id : tasks.names) {
        const fs::path task_dir = domain_dir / id;
        // Loose files (a README, notes) are allowed next to the task folders.
        if (!is_dir(task_dir) && !is_dangling_link(task_dir)) continue;
        if (!wanted(options.task_ids, id, same)) continue;
        note_match(options.task_ids, task_matched, id, same);

        Question question;
        Problem problem;
        if (check_question(root, domain, task_dir, options.decode_images, question, problem)) {
            result.questions.push_back(std::move(question));
        } else {
            result.problems.push_back(std::move(problem));
        }
    }
}

}  // namespace

Discovery discover(const fs::path& root_arg, const DiscoveryOptions& options) {
    const fs::path root = clean(root_arg);
    std::error_code ec;
    fs::file_status st = fs::status(root, ec);
    if (st.type() == fs::file_type::not_found) {
        throw Error(ErrorCode::Config,
                    "questions directory " + root_arg.string() + " does not exist: " + kRootHelp);
    }
    if (ec) {
        throw Error(ErrorCode::Config, "cannot access questions directory " + root_arg.string() +
                                           ": " + ec.message() + ": check its permissions, or " +
                                           kRootHelp);
    }
    if (!fs::is_directory(st)) {
        throw Error(ErrorCode::Config, "questions directory " + root_arg.string() +
                                           " is not a directory: " + kRootHelp);
    }
    Listing listing = list_dir(root);
    if (listing.error) {
        throw Error(ErrorCode::Config, "cannot read questions directory " + root_arg.string() +
                                           ": " + listing.error.message() +
                                           ": give the user running vmeval read access to it");
    }

    Discovery result;
    std::vector<bool> domain_matched(options.domains.size(), false);
    std::vector<bool> task_matched(options.task_ids.size(), false);
    bool any_domain_folder = false;

    for (const auto& name : listing.names) {
        if (!ends_with_suffix(name)) continue;
        const fs::path domain_dir = root / name;
        bool dangling = is_dangling_link(domain_dir);
        if (!is_dir(domain_dir) && !dangling) continue;  // a file that happens to end in _task
        any_domain_folder = true;

        if (name == kSuffix) {
            if (options.domains.empty()) {
                result.problems.push_back(Problem{
                    "", "", domain_dir,
                    "a domain folder needs a name before _task: rename it to <domain>_task, e.g. "
                    "maze_task"});
            }
            continue;
        }
        const std::string domain = name.substr(0, name.size() - kSuffix.size());
        if (!wanted(options.domains, domain, selects_domain)) continue;
        note_match(options.domains, domain_matched, domain, selects_domain);
        ++result.domain_count;

        if (dangling) {
            std::error_code lec;
            result.problems.push_back(Problem{
                domain, "", domain_dir,
                "the domain folder is a symlink to " + fs::read_symlink(domain_dir, lec).string() +
                    ", which does not exist (a dangling link): copy the folder in its place"});
            continue;
        }
        fs::path real;
        if (links_outside(domain_dir, root, real)) {
            result.problems.push_back(Problem{
                domain, "", domain_dir,
                "the domain folder is a symlink to " + real.string() +
                    ", outside the questions tree " + root.string() +
                    ": copy the folder in instead"});
            continue;
        }
        walk_domain(root, domain, domain_dir, options, task_matched, result);
    }

    if (!any_domain_folder) diagnose_misplaced_root(root, listing, result);

    result.unmatched_domains = unmatched(options.domains, domain_matched);
    result.unmatched_task_ids = unmatched(options.task_ids, task_matched);
    return result;
}

}  // namespace vmeval::questions
