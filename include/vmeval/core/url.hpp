#pragma once

#include <string>
#include <string_view>

namespace vmeval {

/// RFC 3986 percent-encoding: letters, digits and `-_.~` stay, every other byte becomes `%XX` with
/// upper-case hex (what S3 signatures require); '/' stays too when `keep_slash`.
std::string percent_encode(std::string_view text, bool keep_slash);

}  // namespace vmeval
