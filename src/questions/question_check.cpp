#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/video/image.hpp"

namespace vmeval::questions {

namespace {

// A prompt is a sentence or a paragraph; anything this large is a wrong file, not a prompt.
constexpr std::uintmax_t kMaxPromptBytes = 64 * 1024;

const char* const kOptionalNote =
    "; final_frame.png is optional, but a broken one rejects the question: fix it or delete it";

// Every check below bails out by throwing this; check_question turns it into the Problem, so the
// checks read top to bottom without threading a result through each call.
struct Rejected {
    fs::path file;
    std::string message;
};

[[noreturn]] void reject(const fs::path& file, std::string message) {
    throw Rejected{file, std::move(message)};
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

fs::path real_root_of(const fs::path& root) {
    // Discovery asks once per question for the same root; resolving it costs a readlink per
    // path component, so remember the last answer.
    thread_local fs::path last_root, last_real;
    if (!last_root.empty() && root == last_root) return last_real;
    std::error_code ec;
    fs::path real = fs::canonical(root, ec);
    if (ec) real = fs::absolute(root, ec).lexically_normal();
    last_root = root;
    last_real = real;
    return real;
}

// True when something (even a dangling symlink) is at `path`; false when nothing is.
bool present(const fs::path& path, const std::string& label) {
    std::error_code ec;
    fs::file_status st = fs::symlink_status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
        reject(path, "cannot look at " + label + ": " + ec.message() +
                         ": check the permissions of the task folder");
    }
    return st.type() != fs::file_type::not_found;
}

// Refuses a path whose real location is unknown (dangling link, loop) or outside the tree: a
// question must be self-contained, so that copying or archiving the tree keeps it working.
void check_resolves_inside(const fs::path& path, const std::string& label,
                           const fs::path& real_root, const std::string& note,
                           bool parent_verified = false) {
    std::error_code ec;
    bool is_link = fs::is_symlink(fs::symlink_status(path, ec));
    // A plain file in a task folder already known to lie inside the tree lies inside it too.
    if (parent_verified && !is_link && !ec) return;
    fs::path target;
    if (is_link) target = fs::read_symlink(path, ec);
    fs::path real = fs::canonical(path, ec);
    if (ec) {
        if (is_link && ec == std::errc::no_such_file_or_directory) {
            reject(path, label + " is a symlink to " + target.string() +
                             ", which does not exist (a dangling link): copy the real file in "
                             "its place" + note);
        }
        if (ec == std::errc::too_many_symbolic_link_levels) {
            reject(path, label + " is a symlink that loops back on itself: replace it with the "
                                 "real file" + note);
        }
        reject(path, "cannot resolve " + label + ": " + ec.message() +
                         ": check the permissions of the folders above it" + note);
    }
    if (!fs_util::is_within(real, real_root)) {
        if (is_link) {
            reject(path, label + " is a symlink to " + real.string() +
                             ", outside the questions tree " + real_root.string() +
                             ": copy the file in instead" + note);
        }
        reject(path, label + " lies at " + real.string() + ", outside the questions tree " +
                         real_root.string() + " (a folder above it is a symlink): copy the files "
                         "in instead" + note);
    }
}

const char* type_name(fs::file_type type) {
    switch (type) {
        case fs::file_type::directory: return "a folder";
        case fs::file_type::fifo: return "a named pipe";
        case fs::file_type::socket: return "a socket";
        case fs::file_type::block: return "a block device";
        case fs::file_type::character: return "a character device";
        default: return "not a regular file";
    }
}

// Only regular files are opened: reading a named pipe or a device could block the whole batch.
void check_regular_file(const fs::path& path, const std::string& label, const fs::path& real_root,
                        const std::string& note = "") {
    check_resolves_inside(path, label, real_root, note, /*parent_verified=*/true);
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec) reject(path, "cannot look at " + label + ": " + ec.message() + note);
    if (!fs::is_regular_file(st)) {
        reject(path, label + " is " + type_name(st.type()) + ", not a file: replace it with " +
                         "the real " + label + note);
    }
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A file that was probably meant to be `expected` ("First_Frame.PNG", "first_frame.jpg",
// "prompt.md"): naming it in the message saves the user a trip to the folder.
std::string near_miss(const fs::path& dir, const std::string& expected) {
    std::string stem = lower(fs::path(expected).stem().string());
    std::error_code ec;
    std::vector<std::string> found;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::string low = lower(name);
        if (name != expected && (low == lower(expected) || low.rfind(stem + ".", 0) == 0)) {
            found.push_back(name);
        }
    }
    if (found.empty()) return "";
    std::string names;
    for (const auto& n : found) names += (names.empty() ? "" : ", ") + n;
    return "; found " + names + " there, but vmeval reads " + expected +
           " only (names are case-sensitive)";
}

// Offset of the first byte that breaks UTF-8, or npos. Overlong forms, surrogates and values
// above U+10FFFF are refused, as a strict decoder on the model's side would refuse them.
size_t invalid_utf8_at(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (i + len > s.size()) return i;
        for (size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return std::string::npos;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// POSIX I/O rather than iostreams: the Problem must say why the read failed (errno), and a read
// capped at the limit keeps a huge file from being pulled into memory.
std::string read_capped(const fs::path& path, std::uintmax_t cap) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        std::string fix = err == EACCES
                              ? ": give the user running vmeval read access (chmod a+r " +
                                    path.string() + ")"
                              : "";
        reject(path, "cannot read prompt.txt: " + errno_text(err) + fix);
    }
    std::string data;
    char buf[16384];
    while (data.size() <= cap) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            reject(path, "cannot read prompt.txt: " + errno_text(err));
        }
        if (n == 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return data;
}

std::string load_prompt(const fs::path& path, const fs::path& task_dir, const fs::path& real_root) {
    if (!present(path, "prompt.txt")) {
        reject(path, "missing prompt.txt: write the instruction for the model into " +
                         path.string() + near_miss(task_dir, "prompt.txt"));
    }
    check_regular_file(path, "prompt.txt", real_root);

    std::error_code ec;
    std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > kMaxPromptBytes) {
        reject(path, "prompt.txt is " + std::to_string(size) +
                         " bytes, more than the 64 KiB a prompt may have: check that it is the "
                         "right file and shorten it");
    }
    std::string text = read_capped(path, kMaxPromptBytes);
    if (text.size() > kMaxPromptBytes) {  // grew between the size check and the read
        reject(path, "prompt.txt is more than the 64 KiB a prompt may have: check that it is the "
                     "right file and shorten it");
    }

    // Windows editors add a byte-order mark; it is not part of the instruction.
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    size_t bad = invalid_utf8_at(text);
    if (bad != std::string::npos) {
        reject(path, "prompt.txt is not valid UTF-8 (first bad byte at offset " +
                         std::to_string(bad) + "): save it with UTF-8 encoding");
    }
    if (text.find('\0') != std::string::npos) {
        reject(path, "prompt.txt contains a NUL byte, so it is not plain text: write the "
                     "instruction as plain UTF-8 text");
    }
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && is_space(text[begin])) ++begin;
    while (end > begin && is_space(text[end - 1])) --end;
    if (begin == end) {
        const char* what =
            text.empty() ? "prompt.txt is empty" : "prompt.txt is empty (white space only)";
        reject(path, std::string(what) + ": write the instruction for the model into it");
    }
    return text.substr(begin, end - begin);
}

// The image readers name the full path in their messages; the Problem already carries it, so
// the label stands in for it to keep the printed "<file>: <message>" line short.
std::string image_message(const fs::path& path, const std::string& label, std::string what) {
    const std::string full = path.string();
    size_t at = what.find(full);
    if (at == std::string::npos) return label + ": " + what;
    return what.replace(at, full.size(), label);
}

void check_png(const fs::path& path, const std::string& label, bool decode, int& width,
               int& height, const std::string& note) {
    try {
        if (decode) {
            video::Image image = video::load_png(path);
            width = image.width;
            height = image.height;
        } else {
            video::PngHeader header = video::read_png_header(path);
            width = header.width;
            height = header.height;
        }
    } catch (const Error& e) {
        reject(path, image_message(path, label, e.what()) + note);
    } catch (const std::bad_alloc&) {
        reject(path, label + " is too large to decode in the memory available" + note);
    } catch (const std::exception& e) {
        reject(path, "cannot read " + label + ": " + e.what() + note);
    }
}

void check_task_dir(const fs::path& dir, const fs::path& real_root) {
    if (!present(dir, "the task folder")) {
        reject(dir, "task folder does not exist (was it moved while vmeval ran?)");
    }
    check_resolves_inside(dir, "the task folder", real_root, "");
    std::error_code ec;
    if (!fs::is_directory(fs::status(dir, ec))) {
        reject(dir, "the task folder is not a folder: a task is a folder holding first_frame.png "
                    "and prompt.txt");
    }
}

}  // namespace

bool check_question(const fs::path& root, const std::string& domain, const fs::path& task_dir,
                    bool decode_images, Question& out, Problem& problem) {
    std::error_code ec;
    fs::path dir = fs::absolute(task_dir, ec);
    if (!dir.has_filename() && dir.has_relative_path()) dir = dir.parent_path();  // "maze_0001/"
    const fs::path real_root = real_root_of(root);

    Question q;
    q.domain = domain;
    q.id = dir.filename().string();
    q.dir = dir;
    q.prompt_file = dir / "prompt.txt";
    q.first_frame = dir / "first_frame.png";
    try {
        check_task_dir(dir, real_root);

        q.prompt = load_prompt(q.prompt_file, dir, real_root);

        if (!present(q.first_frame, "first_frame.png")) {
            reject(q.first_frame, "missing first_frame.png: put the image the model starts from "
                                  "at " + q.first_frame.string() + " (PNG)" +
                                      near_miss(dir, "first_frame.png"));
        }
        check_regular_file(q.first_frame, "first_frame.png", real_root);
        check_png(q.first_frame, "first_frame.png", decode_images, q.width, q.height, "");

        const fs::path final_frame = dir / "final_frame.png";
        if (present(final_frame, "final_frame.png")) {
            check_regular_file(final_frame, "final_frame.png", real_root, kOptionalNote);
            int w = 0;
            int h = 0;
            check_png(final_frame, "final_frame.png", decode_images, w, h, kOptionalNote);
            q.final_frame = final_frame;
        }

        const fs::path ground_truth = dir / "ground_truth.mp4";
        if (present(ground_truth, "ground_truth.mp4")) {
            const std::string note =
                "; ground_truth.mp4 is optional, but a broken one rejects the question: fix it or "
                "delete it";
            check_regular_file(ground_truth, "ground_truth.mp4", real_root, note);
            std::uintmax_t size = fs::file_size(ground_truth, ec);
            if (ec) reject(ground_truth, "cannot look at ground_truth.mp4: " + ec.message() + note);
            if (size == 0) reject(ground_truth, "ground_truth.mp4 is empty (0 bytes)" + note);
            q.ground_truth = ground_truth;
        }
    } catch (const Rejected& r) {
        problem = Problem{domain, q.id, r.file, r.message};
        return false;
    }
    out = std::move(q);
    return true;
}

}  // namespace vmeval::questions
