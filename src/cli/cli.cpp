#include "cli/cli.hpp"

#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "vmeval/core/env.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/log.hpp"
#include "vmeval/core/version.hpp"

namespace vmeval::cli {

std::unique_ptr<CLI::App> build_cli(Options& o) {
    auto app = std::make_unique<CLI::App>(
        "vmeval: run image-to-video models over reasoning questions and keep every result.\n"
        "Questions live in <questions-dir>/<domain>_task/<task_id>/{first_frame.png, prompt.txt}.",
        "vmeval");
    app->set_version_flag("--version", std::string("vmeval ") + version() + " (" + git_commit() + ")");
    app->require_subcommand(0, 1);
    app->add_flag("-v,--verbose", o.verbose, "More detail: -v debug, -vv trace");
    app->add_flag("-q,--quiet", o.quiet, "Only warnings and errors");
    app->add_option("--env-file", o.env_file,
                    "File of NAME=value lines loaded into the environment (variables already set win)")
        ->capture_default_str();
    app->add_flag("--list-models", o.list_models, "Same as `vmeval models`");
    app->fallthrough();
    app->footer(
        "Examples:\n"
        "  vmeval generate --questions-dir examples/questions --output-dir outputs\n"
        "  vmeval generate -m veo-3.0-generate,kling-v2.1 --jobs 8 --task-id maze_0000\n"
        "  vmeval models\n"
        "  vmeval doctor -m svd,veo-3.1-generate   (what is missing, and the fix)\n"
        "  vmeval pull svd --dry-run               (weights from the Hugging Face Hub)\n"
        "  vmeval validate --questions-dir questions\n"
        "  vmeval report --output-dir outputs      (then open outputs/_report/index.html)\n"
        "  vmeval mock-api --port 8000 &  export VMEVAL_MOCK_API=http://127.0.0.1:8000\n"
        "Exit codes: 0 all done, 1 some questions failed, 2 usage or configuration error, 130 interrupted.");
    setup_generate_command(*app, o);
    setup_models_command(*app, o);
    setup_validate_command(*app, o);
    setup_mock_api_command(*app, o);
    setup_report_command(*app, o);
    setup_doctor_command(*app, o);
    setup_pull_command(*app, o);
    return app;
}

int run(int argc, char** argv) {
    Options o;
    for (int i = 0; i < argc; ++i) o.argv.emplace_back(argv[i]);
    auto app = build_cli(o);
    try {
        app->parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app->exit(e);
        return rc == 0 ? 0 : 2;
    }
    logging::init(o.quiet ? logging::Verbosity::Quiet
                  : o.verbose >= 2 ? logging::Verbosity::Trace
                  : o.verbose == 1 ? logging::Verbosity::Verbose
                                   : logging::Verbosity::Normal);
    try {
        auto loaded = load_dotenv(o.env_file);
        if (!loaded.empty()) spdlog::debug("loaded {} variable(s) from {}", loaded.size(), o.env_file);
        if (o.list_models || o.generate.list_models) return run_models(o);
        if (app->got_subcommand("generate")) return run_generate(o);
        if (app->got_subcommand("models")) return run_models(o);
        if (app->got_subcommand("validate")) return run_validate(o);
        if (app->got_subcommand("mock-api")) return run_mock_api(o);
        if (app->got_subcommand("report")) return run_report(o);
        if (app->got_subcommand("doctor")) return run_doctor(o);
        if (app->got_subcommand("pull")) return run_pull(o);
        std::fputs(app->help().c_str(), stdout);
        return 2;
    } catch (const Error& e) {
        spdlog::error("{}", e.what());
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("internal error: {}", e.what());
        return 2;
    }
}

}  // namespace vmeval::cli
