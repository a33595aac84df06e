#pragma once

namespace vmeval::report {

/// The gallery's style sheet, inlined into index.html (no fonts or files from the network).
const char* gallery_css();
/// The filter script, inlined into index.html: it only hides and shows what the HTML holds.
const char* gallery_js();

}  // namespace vmeval::report
