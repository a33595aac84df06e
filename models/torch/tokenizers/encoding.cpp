#include "models/torch/tokenizers/encoding.hpp"

#include <algorithm>

namespace vmeval::tokenizers {

Encoded assemble(std::vector<int64_t> content, const std::vector<int64_t>& prefix,
                 const std::vector<int64_t>& suffix, const Fit& fit) {
    const size_t specials = prefix.size() + suffix.size();
    if (fit.max_length > 0 && fit.truncate) {
        const size_t room = static_cast<size_t>(fit.max_length) > specials
                                ? static_cast<size_t>(fit.max_length) - specials
                                : 0;
        if (content.size() > room) content.resize(room);
    }
    Encoded out;
    out.ids.reserve(specials + content.size());
    out.ids.insert(out.ids.end(), prefix.begin(), prefix.end());
    out.ids.insert(out.ids.end(), content.begin(), content.end());
    out.ids.insert(out.ids.end(), suffix.begin(), suffix.end());
    out.mask.assign(out.ids.size(), 1);

    const size_t target = static_cast<size_t>(std::max(fit.max_length, 0));
    if (fit.pad_to_max && out.ids.size() < target) {
        const size_t missing = target - out.ids.size();
        auto ids_at = fit.side == PaddingSide::Right ? out.ids.end() : out.ids.begin();
        out.ids.insert(ids_at, missing, fit.pad_id);
        auto mask_at = fit.side == PaddingSide::Right ? out.mask.end() : out.mask.begin();
        out.mask.insert(mask_at, missing, 0);
    }
    return out;
}

}  // namespace vmeval::tokenizers
