#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "vmeval/core/error.hpp"
#include "vmeval/report/report.hpp"

namespace vmeval::report {

namespace {

constexpr const char* kMediaDir = "media";

/// True when `dst` already holds `src`: the same inode (our hard link) or the same size and
/// modification time (our copy, which carries the source's mtime). Run folders are never edited
/// in place once published, so this is enough to skip unchanged files without reading them.
bool up_to_date(const fs::path& src, const fs::path& dst) {
    struct stat a {
    }, b{};
    if (::stat(src.c_str(), &a) != 0 || ::stat(dst.c_str(), &b) != 0) return false;
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) return true;
    return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
           a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
    throw Error(ErrorCode::Io, what + " " + path.string() + ": " + std::strerror(err));
}

void copy_with_mtime(const fs::path& src, const fs::path& tmp) {
    std::error_code ec;
    fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        throw Error(ErrorCode::Io,
                    "cannot copy " + src.string() + " to " + tmp.string() + ": " + ec.message());
    }
    struct stat st {};
    if (::stat(src.c_str(), &st) != 0) fail("cannot stat", src, errno);
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, tmp.c_str(), times, 0) != 0)
        fail("cannot set the time of", tmp, errno);
}

/// Puts `src` at `dst` through a temporary sibling and rename, so a browser reading the report
/// meanwhile sees the old file or the new one. Returns true for a hard link, false for a copy.
bool place(const fs::path& src, const fs::path& dst) {
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    if (ec)
        throw Error(ErrorCode::Io,
                    "cannot create " + dst.parent_path().string() + ": " + ec.message());
    fs::path tmp = dst;
    tmp += ".tmp-" + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    // AT_SYMLINK_FOLLOW: a run file that is a symlink is linked as its target, which stays valid
    // when the report moves.
    bool linked = ::linkat(AT_FDCWD, src.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) == 0;
    if (!linked) {
        // EXDEV: another file system; EPERM/EMLINK/ENOTSUP: links refused there. Copy instead.
        if (errno == ENOENT) fail("cannot read", src, errno);
        copy_with_mtime(src, tmp);
    }
    if (::rename(tmp.c_str(), dst.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        fail("cannot rename into place", dst, err);
    }
    return linked;
}

}  // namespace

MediaSync sync_media(const fs::path& report_dir, const std::vector<Media>& wanted) {
    MediaSync s;
    std::set<std::string> keep;
    for (const auto& m : wanted) {
        keep.insert(m.rel);
        fs::path dst = report_dir / fs::path(m.rel);
        if (up_to_date(m.source, dst)) {
            ++s.kept;
        } else if (place(m.source, dst)) {
            ++s.linked;
        } else {
            ++s.copied;
        }
    }

    const fs::path media = report_dir / kMediaDir;
    std::vector<fs::path> doomed, dirs;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(media, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) {
            dirs.push_back(it->path());
            continue;
        }
        if (!keep.count(it->path().lexically_relative(report_dir).generic_string())) {
            doomed.push_back(it->path());
        }
    }
    for (const auto& p : doomed) {
        if (::unlink(p.c_str()) != 0 && errno != ENOENT) fail("cannot remove", p, errno);
        ++s.removed;
    }
    // Deepest first, so that emptied parents go too; rmdir leaves folders that still hold files.
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
        return a.native().size() > b.native().size();
    });
    for (const auto& d : dirs) ::rmdir(d.c_str());
    return s;
}

}  // namespace vmeval::report
