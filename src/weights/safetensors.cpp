#include "vmeval/weights/safetensors.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>

#include "vmeval/core/error.hpp"

namespace vmeval::weights {

namespace {

using json = nlohmann::json;

struct DTypeRow {
    DType dtype;
    const char* name;
    int bits;
};

// One row per dtype, in enum order: the name and the width live together so they cannot drift.
constexpr std::array<DTypeRow, 20> kDTypes{{
    {DType::BOOL, "BOOL", 8},       {DType::F4, "F4", 4},           {DType::F6_E2M3, "F6_E2M3", 6},
    {DType::F6_E3M2, "F6_E3M2", 6}, {DType::U8, "U8", 8},           {DType::I8, "I8", 8},
    {DType::F8_E5M2, "F8_E5M2", 8}, {DType::F8_E4M3, "F8_E4M3", 8}, {DType::F8_E8M0, "F8_E8M0", 8},
    {DType::I16, "I16", 16},        {DType::U16, "U16", 16},        {DType::F16, "F16", 16},
    {DType::BF16, "BF16", 16},      {DType::I32, "I32", 32},        {DType::U32, "U32", 32},
    {DType::F32, "F32", 32},        {DType::C64, "C64", 64},        {DType::F64, "F64", 64},
    {DType::I64, "I64", 64},        {DType::U64, "U64", 64},
}};

const DTypeRow& row(DType dtype) { return kDTypes[static_cast<std::size_t>(dtype)]; }

[[noreturn]] void bad(const std::string& source, const std::string& what) {
    throw Error(ErrorCode::Config, source + ": not a valid safetensors file: " + what);
}

std::string tensor_label(const std::string& name) { return "tensor '" + name + "'"; }

std::uint64_t read_u64_le(const char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

/// Header length N, checked against the limit and the file size.
std::uint64_t header_length(std::string_view bytes, std::uint64_t file_size,
                            const std::string& source) {
    if (file_size < 8 || bytes.size() < 8) {
        bad(source,
            "it is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
    }
    const std::uint64_t n = read_u64_le(bytes.data());
    if (n > kMaxHeaderBytes) {
        bad(source, "header length " + std::to_string(n) + " exceeds the " +
                        std::to_string(kMaxHeaderBytes) +
                        "-byte limit (corrupt or not safetensors)");
    }
    if (n > file_size - 8) {
        bad(source, "header length " + std::to_string(n) + " runs past the end of the " +
                        std::to_string(file_size) + "-byte file (truncated download?)");
    }
    return n;
}

std::uint64_t as_u64(const json& v, const std::string& source, const std::string& what) {
    if (!v.is_number_unsigned())
        bad(source, what + " must be a non-negative integer, got " + v.dump());
    return v.get<std::uint64_t>();
}

TensorInfo parse_tensor(const std::string& name, const json& entry, std::uint64_t data_size,
                        const std::string& source) {
    const std::string label = tensor_label(name);
    if (!entry.is_object())
        bad(source, label + " must be an object with dtype, shape and data_offsets");
    TensorInfo t;
    t.name = name;

    auto dt = entry.find("dtype");
    if (dt == entry.end() || !dt->is_string()) bad(source, label + " has no \"dtype\" string");
    auto parsed = parse_dtype(dt->get_ref<const std::string&>());
    if (!parsed) bad(source, label + " has unknown dtype " + dt->dump());
    t.dtype = *parsed;

    auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array()) bad(source, label + " has no \"shape\" array");
    std::uint64_t numel = 1;
    for (const json& d : *shape) {
        const std::uint64_t dim = as_u64(d, source, label + " shape entry");
        t.shape.push_back(dim);
        if (__builtin_mul_overflow(numel, dim, &numel))
            bad(source, label + " has a shape whose size overflows");
    }

    auto offs = entry.find("data_offsets");
    if (offs == entry.end() || !offs->is_array() || offs->size() != 2) {
        bad(source, label + " needs \"data_offsets\": [begin, end]");
    }
    t.begin = as_u64((*offs)[0], source, label + " data_offsets begin");
    t.end = as_u64((*offs)[1], source, label + " data_offsets end");
    if (t.end < t.begin) bad(source, label + " ends before it begins");
    if (t.end > data_size) {
        bad(source, label + " ends at byte " + std::to_string(t.end) + " of a " +
                        std::to_string(data_size) + "-byte data section");
    }

    std::uint64_t bits = 0;
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(bit_size(t.dtype)), &bits)) {
        bad(source, label + " has a byte size that overflows");
    }
    if (bits % 8 != 0)
        bad(source, label + " of " + to_string(t.dtype) + " does not fill whole bytes");
    if (t.byte_size() != bits / 8) {
        bad(source, label + " spans " + std::to_string(t.byte_size()) +
                        " bytes but its dtype and shape need " + std::to_string(bits / 8));
    }
    return t;
}

std::map<std::string, std::string> parse_metadata(const json& m, const std::string& source) {
    if (!m.is_object()) bad(source, "\"__metadata__\" must be an object of strings");
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : m.items()) {
        if (!v.is_string()) bad(source, "\"__metadata__\" value of '" + k + "' must be a string");
        out.emplace(k, v.get<std::string>());
    }
    return out;
}

/// Tensors must tile the data section exactly: overlapping tensors would alias each other and
/// unindexed bytes could hide a second payload (the reference implementation refuses both).
void check_layout(std::vector<TensorInfo> by_offset, std::uint64_t data_size,
                  const std::string& source) {
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t covered = 0;
    const TensorInfo* prev = nullptr;
    for (const TensorInfo& t : by_offset) {
        if (t.begin < covered) {
            bad(source, tensor_label(t.name) + " overlaps " + tensor_label(prev->name));
        }
        if (t.begin > covered) {
            bad(source, "bytes " + std::to_string(covered) + ".." + std::to_string(t.begin) +
                            " of the data section belong to no tensor");
        }
        covered = t.end;
        prev = &t;
    }
    if (covered != data_size) {
        bad(source, "the data section has " + std::to_string(data_size - covered) +
                        " bytes after the last tensor");
    }
}

}  // namespace

std::optional<DType> parse_dtype(std::string_view name) {
    for (const DTypeRow& r : kDTypes) {
        if (name == r.name) return r.dtype;
    }
    return std::nullopt;
}

const char* to_string(DType dtype) { return row(dtype).name; }

int bit_size(DType dtype) { return row(dtype).bits; }

std::uint64_t TensorInfo::numel() const {
    std::uint64_t n = 1;
    for (std::uint64_t d : shape) n *= d;  // parse_header has checked that this cannot overflow
    return n;
}

const TensorInfo* Header::find(std::string_view name) const {
    auto it = std::lower_bound(tensors.begin(), tensors.end(), name,
                               [](const TensorInfo& t, std::string_view n) { return t.name < n; });
    return it != tensors.end() && it->name == name ? &*it : nullptr;
}

Header parse_header(std::string_view bytes, std::uint64_t file_size, const std::string& source) {
    const std::uint64_t n = header_length(bytes, file_size, source);
    if (bytes.size() - 8 < n) bad(source, "the header is cut short");
    const std::string_view text = bytes.substr(8, n);
    if (text.empty() || text.front() != '{')
        bad(source, "the header does not start with a JSON object");
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) bad(source, "the header is not valid JSON");

    Header h;
    h.data_start = 8 + n;
    h.data_size = file_size - h.data_start;
    for (const auto& [name, entry] : j.items()) {
        if (name == "__metadata__") {
            h.metadata = parse_metadata(entry, source);
        } else {
            h.tensors.push_back(parse_tensor(name, entry, h.data_size, source));
        }
    }
    check_layout(h.tensors, h.data_size, source);
    // nlohmann keeps object keys sorted, so the tensors already are; sort anyway so find() never
    // depends on that detail.
    std::sort(h.tensors.begin(), h.tensors.end(),
              [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
    return h;
}

Header read_header(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, path.string() + ": cannot open");
    std::error_code ec;
    const std::uint64_t file_size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorCode::Io, path.string() + ": cannot read its size: " + ec.message());
    std::string buf(8, '\0');
    in.read(buf.data(), 8);
    const std::uint64_t n =
        header_length(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())),
                      file_size, path.string());
    buf.resize(8 + n);
    in.read(buf.data() + 8, static_cast<std::streamsize>(n));
    if (static_cast<std::uint64_t>(in.gcount()) != n) {
        throw Error(ErrorCode::Io, path.string() + ": the file ended while reading its header");
    }
    return parse_header(buf, file_size, path.string());
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(path) {
    const ByteView all = file_.bytes();
    header_ = parse_header(std::string_view(reinterpret_cast<const char*>(all.data), all.size),
                           all.size, path.string());
}

ByteView SafetensorsFile::tensor_bytes(std::string_view name) const {
    const TensorInfo* t = header_.find(name);
    if (t == nullptr) {
        throw Error(ErrorCode::Config,
                    path().string() + ": has no tensor '" + std::string(name) + "'");
    }
    return tensor_bytes(*t);
}

ByteView SafetensorsFile::tensor_bytes(const TensorInfo& tensor) const {
    return {file_.bytes().data + header_.data_start + tensor.begin,
            static_cast<std::size_t>(tensor.byte_size())};
}

}  // namespace vmeval::weights
