#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vmeval::cli {

/// Options of `vmeval generate`, filled by the parser.
struct GenerateOptions {
    std::string questions_dir = "questions";
    std::string output_dir = "outputs";
    std::vector<std::string> models;
    std::vector<std::string> task_ids;
    std::vector<std::string> domains;
    std::vector<std::string> params;
    bool dry_run = false;
    bool force = false;
    bool override_flag = false;
    bool list_models = false;
    int jobs = 1;
    unsigned long long seed = 42;
    int gpu = -1;
    bool no_contact_sheet = false;
    int contact_sheet_frames = 6;
    std::string gpus;  ///< "0,1,2,3"
    std::string shard;
    bool report = false;  ///< bring <output-dir>/_report up to date after the batch
    std::string device = "auto";
    std::string precision = "auto";
};

struct ModelsOptions {
    bool json = false;
    std::vector<std::string> select;
};

struct ValidateOptions {
    std::string questions_dir = "questions";
    std::vector<std::string> task_ids;
    std::vector<std::string> domains;
    bool json = false;
};

struct MockApiOptions {
    std::string host = "127.0.0.1";
    int port = 8000;
    double generation_s = 2.0;
    double queue_s = -1;
    std::string faults;
    std::string required_key;
};

struct ReportOptions {
    std::string output_dir = "outputs";
    std::string report_dir;  ///< empty: <output_dir>/_report
    bool watch = false;
    double interval_s = 5.0;
};

struct DoctorOptions {
    std::vector<std::string> models;
    bool json = false;
};

struct PullOptions {
    std::vector<std::string> models;  ///< names, globs, families, or org/name repository ids
    std::string dir;                  ///< plain folder instead of the Hugging Face cache
    std::string revision;
    int jobs = 4;
    bool dry_run = false;
};

/// Everything the command line can say; the parser writes into it.
struct Options {
    GenerateOptions generate;
    ModelsOptions models;
    ValidateOptions validate;
    MockApiOptions mock;
    DoctorOptions doctor;
    ReportOptions report;
    PullOptions pull;
    int verbose = 0;
    bool quiet = false;
    bool list_models = false;  ///< the original's `--list-models`, accepted at the top level too
    std::string env_file = ".env";
    std::vector<std::string> argv;  ///< the raw command line, recorded in batch summaries
};

/// Builds the whole parser; tests parse argv with it without starting a process.
std::unique_ptr<CLI::App> build_cli(Options& options);

/// Parses and runs; returns the process exit code (0 ok, 1 some questions failed, 2 usage or
/// configuration error, 130 interrupted). Never throws.
int run(int argc, char** argv);

// One file per subcommand.
void setup_generate_command(CLI::App& app, Options& options);
void setup_models_command(CLI::App& app, Options& options);
void setup_validate_command(CLI::App& app, Options& options);
void setup_mock_api_command(CLI::App& app, Options& options);
void setup_report_command(CLI::App& app, Options& options);
int run_generate(const Options& options);
void setup_doctor_command(CLI::App& app, Options& options);
int run_doctor(const Options& options);
/// `generate --gpus a,b,...`: one worker process per GPU over the same output folder.
int run_gpu_workers(const Options& options);
int run_models(const Options& options);
int run_validate(const Options& options);
int run_mock_api(const Options& options);
int run_report(const Options& options);
void setup_pull_command(CLI::App& app, Options& options);
int run_pull(const Options& options);

/// Set by SIGINT/SIGTERM while `generate` runs.
std::atomic<bool>& interrupted();

}  // namespace vmeval::cli
