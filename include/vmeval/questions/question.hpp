#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vmeval::questions {

namespace fs = std::filesystem;

/// One question: `<root>/<domain>_task/<id>/` with first_frame.png and prompt.txt.
struct Question {
    std::string domain;         ///< folder name without the "_task" suffix, e.g. "maze"
    std::string id;             ///< task folder name, e.g. "maze_0001"
    fs::path dir;               ///< absolute path of the task folder
    fs::path first_frame;       ///< absolute path of first_frame.png
    fs::path final_frame;       ///< absolute path of final_frame.png, empty when absent
    fs::path ground_truth;      ///< absolute path of ground_truth.mp4, empty when absent
    fs::path prompt_file;       ///< absolute path of prompt.txt
    std::string prompt;         ///< prompt.txt with surrounding white space trimmed
    int width = 0;              ///< first frame size from its PNG header
    int height = 0;

    /// "<domain>_task"
    std::string domain_dir() const { return domain + "_task"; }
    bool has_final_frame() const { return !final_frame.empty(); }
};

/// A question that cannot be used, and why.
struct Problem {
    std::string domain;   ///< may be empty when the problem is with a domain folder itself
    std::string id;
    fs::path file;        ///< the file (or folder) at fault
    std::string message;  ///< what is wrong and how to fix it, e.g. "prompt.txt is empty: write the instruction into it"
};

struct DiscoveryOptions {
    std::vector<std::string> task_ids;  ///< keep only these task folder names (any domain); empty = all
    std::vector<std::string> domains;   ///< keep only these domains (with or without "_task"); empty = all
    /// Decode every PNG fully (validate) instead of checking signature and header only (generate,
    /// which decodes each image when its job runs anyway).
    bool decode_images = false;
};

struct Discovery {
    std::vector<Question> questions;  ///< sorted by domain folder, then task folder (byte order)
    std::vector<Problem> problems;    ///< broken questions, in the same order
    std::vector<std::string> unmatched_task_ids;  ///< --task-id values that matched no folder
    std::vector<std::string> unmatched_domains;   ///< --domain values that matched no folder
    size_t domain_count = 0;          ///< `*_task` folders seen (after the domain filter)
};

/// Walks a questions tree. Throws Error(Config) when the root itself is missing or not a directory;
/// every problem below it is reported in Discovery::problems and never stops the walk.
Discovery discover(const fs::path& root, const DiscoveryOptions& options = {});

/// Checks one task folder. Returns true and fills `out`, or returns false and fills `problem`.
/// `root` is the questions root: files whose real path (after symlinks) leaves it are refused.
bool check_question(const fs::path& root, const std::string& domain, const fs::path& task_dir,
                    bool decode_images, Question& out, Problem& problem);

}  // namespace vmeval::questions
