#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "mock/mock_server.hpp"

namespace vmeval::cli {

namespace {

std::atomic<bool> g_stop{false};

// Only an atomic store here: stopping the server takes locks, which a signal handler must not.
extern "C" void stop_mock(int) { g_stop = true; }

}  // namespace

void setup_mock_api_command(CLI::App& app, Options& o) {
    auto& m = o.mock;
    auto* cmd = app.add_subcommand(
        "mock-api",
        "Serve the Luma, Veo, Kling, Sora and Runway APIs (and S3 uploads) on loopback for tests and CI");
    cmd->add_option("--host", m.host, "Address to listen on")->capture_default_str();
    cmd->add_option("--port", m.port, "Port (0 = any free port, printed at start)")->capture_default_str();
    cmd->add_option("--generation-s", m.generation_s, "Seconds from a job's creation to its video")
        ->capture_default_str();
    cmd->add_option("--queue-s", m.queue_s, "Seconds a job stays queued (default: a quarter of --generation-s)");
    cmd->add_option("--fault", m.faults,
                    "Faults for every job, e.g. create-429@1,download-truncate (see docs/mock-api.md)");
    cmd->add_option("--key", m.required_key, "Accept only this key/secret (default: any non-empty one)");
}

int run_mock_api(const Options& o) {
    const auto& m = o.mock;
    mock::MockOptions opts;
    opts.host = m.host;
    opts.port = m.port;
    opts.generation_s = m.generation_s;
    opts.queue_s = m.queue_s;
    opts.faults = m.faults;
    opts.required_key = m.required_key;
    mock::MockServer server(opts);
    int port = server.start();
    struct sigaction sa {};
    sa.sa_handler = stop_mock;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::printf("vmeval mock-api listening on %s\nexport VMEVAL_MOCK_API=%s\n", server.url().c_str(),
                server.url().c_str());
    std::fflush(stdout);
    spdlog::debug("mock-api on port {}", port);
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server.stop();
    return 0;
}

}  // namespace vmeval::cli
