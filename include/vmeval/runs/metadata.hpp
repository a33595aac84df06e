#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vmeval::runs {

/// metadata.json's schema identifier; docs/metadata.md and docs/metadata.schema.json describe it.
inline constexpr const char* kMetadataSchema = "vmeval.run/1";

/// Facts about this machine and binary recorded in every metadata.json.
nlohmann::json host_info();
nlohmann::json vmeval_info();

/// Reads a run's metadata.json; nullopt when it is missing or not valid JSON of our schema.
std::optional<nlohmann::json> read_metadata(const std::filesystem::path& run_dir);

/// Writes metadata.json atomically (temporary file + rename) with two-space indentation.
void write_metadata(const std::filesystem::path& run_dir, const nlohmann::json& metadata);

}  // namespace vmeval::runs
