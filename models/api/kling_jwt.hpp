#pragma once

// Kling's per-request credential: an HS256 JWT issued by the access key and signed with the
// secret key. Defined in kling.cpp; declared here so that tests can check it against an
// independent signature check.

#include <cstdint>
#include <string>

namespace vmeval::api {

/// How long a token lives (Kling's own sample: 30 min) and how far back it claims to be valid,
/// which absorbs small clock differences with Kling's servers.
inline constexpr std::int64_t kKlingTokenLifetimeS = 1800;
inline constexpr std::int64_t kKlingTokenLeewayS = 5;

/// base64url without padding (RFC 7515 section 2).
std::string base64url(const std::string& bytes);

/// header {"alg":"HS256","typ":"JWT"}, payload {"exp": now + 1800, "iss": access_key,
/// "nbf": now - 5}, signature HMAC-SHA256(secret_key) over "header.payload"; `now_unix` in seconds.
std::string kling_jwt(const std::string& access_key, const std::string& secret_key,
                      std::int64_t now_unix);

}  // namespace vmeval::api
