#include "weights/safetensors_writer.hpp"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vmeval::testkit {

std::string safetensors_bytes(const std::string& header_json, const std::string& data) {
    std::string out(8, '\0');
    std::uint64_t n = header_json.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header_json + data;
}

std::string safetensors_bytes(const std::vector<TestTensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::string data;
    for (const TestTensor& t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    return safetensors_bytes(header.dump(), data);
}

TestTensor iota_f32(const std::string& name, std::vector<std::uint64_t> shape) {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    std::string bytes(n * 4, '\0');
    for (std::uint64_t i = 0; i < n; ++i) {
        const float f = static_cast<float>(i);
        std::memcpy(&bytes[i * 4], &f, 4);  // the test machines are little-endian, as the format
    }
    return {name, "F32", std::move(shape), std::move(bytes)};
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace vmeval::testkit
