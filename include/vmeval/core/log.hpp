#pragma once

#include <filesystem>
#include <string>

namespace vmeval::logging {

enum class Verbosity { Quiet, Normal, Verbose, Trace };

/// Sets up the default spdlog logger: messages to stderr (warnings and errors only when Quiet),
/// drawn around a live status line when stderr is a terminal.
void init(Verbosity verbosity);
/// Also writes every message (debug and up) to `path` until close_file(); one file per batch.
void open_file(const std::filesystem::path& path);
void close_file();
/// True when stderr is a terminal, so a live status line can be redrawn in place.
bool interactive();
/// A debug-level message, for code that cannot include spdlog (the LibTorch module: LibTorch
/// ships its own fmt headers, which clash with the system spdlog's).
void debug(const std::string& message);
/// Replaces the live status line (no-op when not interactive); empty clears it.
void set_status(const std::string& line);

}  // namespace vmeval::logging
