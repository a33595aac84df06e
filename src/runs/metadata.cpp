#include "vmeval/runs/metadata.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include "vmeval/core/error.hpp"
#include "vmeval/core/fs.hpp"
#include "vmeval/core/version.hpp"
#include "vmeval/runs/layout.hpp"

namespace vmeval::runs {

nlohmann::json host_info() {
    char name[256] = {0};
    if (::gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
    struct utsname u {};
    std::string os = "unknown";
    if (::uname(&u) == 0) os = std::string(u.sysname) + " " + u.release + " " + u.machine;
    return {{"hostname", name}, {"os", os}, {"pid", static_cast<long>(::getpid())}};
}

nlohmann::json vmeval_info() { return {{"version", version()}, {"git_commit", git_commit()}}; }

std::optional<nlohmann::json> read_metadata(const std::filesystem::path& run_dir) {
    std::string text;
    try {
        text = fs_util::read_file(run_dir / kMetadataFile);
    } catch (const Error&) {
        return std::nullopt;
    }
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    // value("schema", "") would throw on a non-string schema: compare the JSON values instead.
    if (j.is_discarded() || !j.is_object() || !j.contains("schema") ||
        j["schema"] != kMetadataSchema) {
        return std::nullopt;
    }
    return j;
}

void write_metadata(const std::filesystem::path& run_dir, const nlohmann::json& metadata) {
    fs_util::write_file_atomic(run_dir / kMetadataFile, metadata.dump(2) + "\n");
}

}  // namespace vmeval::runs
