#pragma once

// Path prefixes under which `vmeval mock-api` serves each provider. The clients read them too:
// VMEVAL_MOCK_API=http://host:port makes each provider's base URL <that> + its prefix.

namespace vmeval::mock {

inline constexpr const char* kLumaPrefix = "/luma/dream-machine/v1";
inline constexpr const char* kVeoPrefix = "/gemini/v1beta";
inline constexpr const char* kKlingPrefix = "/kling";
inline constexpr const char* kSoraPrefix = "/openai/v1";
inline constexpr const char* kRunwayPrefix = "/runway";
inline constexpr const char* kS3Prefix = "/s3";
inline constexpr const char* kHubPrefix = "/hub";  ///< HF_ENDPOINT=<mock>/hub

}  // namespace vmeval::mock
