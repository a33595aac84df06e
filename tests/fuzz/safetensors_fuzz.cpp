// The safetensors header parser over whole files: on success every tensor must lie inside the
// data section with the size its dtype and shape imply.

#include "fuzz_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/weights/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    try {
        weights::Header h =
            weights::parse_header(fuzz::as_text(data, size), size, "fuzz.safetensors");
        if (h.data_start + h.data_size != size) std::abort();
        std::uint64_t total = 0;
        for (const auto& t : h.tensors) {
            if (t.begin > t.end || t.end > h.data_size) std::abort();
            if (t.numel() * weights::bit_size(t.dtype) / 8 != t.byte_size()) std::abort();
            if (h.find(t.name) != &t) std::abort();
            total += t.byte_size();
        }
        if (total != h.data_size) std::abort();  // tensors tile the data section exactly
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Config) std::abort();
    }
    return 0;
}
