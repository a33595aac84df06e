#include "vmeval/core/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "vmeval/core/error.hpp"

namespace vmeval::fs_util {

namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::string_view content, const fs::path& path) {
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCode::Io, "cannot write " + path.string() + ": " + errno_text());
        }
        done += static_cast<size_t>(n);
    }
}

}  // namespace

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, "cannot read " + path.string() + ": " + errno_text());
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(ErrorCode::Io, "cannot read " + path.string() + ": " + errno_text());
    return ss.str();
}

void write_file_atomic(const fs::path& path, std::string_view content) {
    // A unique temporary name lets concurrent writers of different files share a folder safely.
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    fs::path tmp = path;
    tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000007ULL);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(ErrorCode::Io, "cannot create " + tmp.string() + ": " + errno_text());
    try {
        write_all(fd, content, tmp);
        if (::fsync(fd) != 0) {
            throw Error(ErrorCode::Io, "cannot flush " + tmp.string() + ": " + errno_text());
        }
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string why = errno_text();
        ::unlink(tmp.c_str());
        throw Error(ErrorCode::Io, "cannot rename " + tmp.string() + " to " + path.string() + ": " + why);
    }
}

void copy_file(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        throw Error(ErrorCode::Io,
                    "cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
    }
}

void sync_directory(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // best effort: some file systems refuse to open directories
    ::fsync(fd);
    ::close(fd);
}

bool is_within(const fs::path& path, const fs::path& root) {
    std::error_code ec;
    fs::path real = fs::weakly_canonical(path, ec);
    if (ec) return false;
    fs::path real_root = fs::weakly_canonical(root, ec);
    if (ec) return false;
    auto r = real_root.begin();
    auto p = real.begin();
    for (; r != real_root.end(); ++r, ++p) {
        if (r->empty()) continue;  // a trailing separator yields an empty last element
        if (p == real.end() || *p != *r) return false;
    }
    return true;
}

}  // namespace vmeval::fs_util
