#include "vmeval/weights/safetensors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "weights/safetensors_writer.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::iota_f32;
using vmeval::testkit::safetensors_bytes;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_bytes;
using namespace vmeval::weights;

Header parse(const std::string& bytes) {
    return parse_header(bytes, bytes.size(), "w.safetensors");
}

/// Parses `bytes`, expecting Error(Config); returns the message.
std::string rejection(const std::string& bytes) {
    try {
        parse(bytes);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "accepted: " << bytes.substr(8);
    return "";
}

std::string one(const std::string& entry, const std::string& data) {
    return safetensors_bytes("{\"t\":" + entry + "}", data);
}

TEST(Safetensors, ParsesTensorsMetadataAndOffsets) {
    auto bytes = safetensors_bytes({iota_f32("b.weight", {2, 3}),
                                    iota_f32("a.bias", {3}),
                                    {"s", "I64", {}, std::string(8, '\x01')}},
                                   {{"format", "pt"}});
    Header h = parse(bytes);
    ASSERT_EQ(h.tensors.size(), 3u);
    EXPECT_EQ(h.tensors[0].name, "a.bias");  // sorted by name
    const TensorInfo* w = h.find("b.weight");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->dtype, DType::F32);
    EXPECT_EQ(w->shape, (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(w->numel(), 6u);
    EXPECT_EQ(w->begin, 0u);
    EXPECT_EQ(w->end, 24u);
    EXPECT_EQ(h.find("s")->numel(), 1u);  // a scalar
    EXPECT_EQ(h.find("nope"), nullptr);
    EXPECT_EQ(h.metadata.at("format"), "pt");
    EXPECT_EQ(h.data_start + h.data_size, bytes.size());
}

TEST(Safetensors, DTypeNamesAndWidthsRoundTrip) {
    const std::vector<std::pair<const char*, int>> all = {
        {"BOOL", 8}, {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
        {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
        {"U16", 16}, {"F16", 16},    {"BF16", 16},   {"I32", 32},    {"U32", 32},
        {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64}};
    for (const auto& [name, bits] : all) {
        auto d = parse_dtype(name);
        ASSERT_TRUE(d) << name;
        EXPECT_STREQ(to_string(*d), name);
        EXPECT_EQ(bit_size(*d), bits) << name;
    }
    EXPECT_FALSE(parse_dtype("f32"));
    EXPECT_FALSE(parse_dtype("F128"));
}

TEST(Safetensors, SubByteTypesMustFillWholeBytes) {
    EXPECT_NO_THROW(parse(one(R"({"dtype":"F4","shape":[2],"data_offsets":[0,1]})", "x")));
    EXPECT_NE(rejection(one(R"({"dtype":"F4","shape":[3],"data_offsets":[0,2]})", "xy"))
                  .find("whole bytes"),
              std::string::npos);
    EXPECT_NO_THROW(parse(one(R"({"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]})", "xyz")));
}

TEST(Safetensors, EmptyTensorsAndPaddedHeadersAreValid) {
    EXPECT_NO_THROW(parse(one(R"({"dtype":"F16","shape":[0,7],"data_offsets":[0,0]})", "")));
    // Writers pad the header with spaces to align the data section.
    EXPECT_NO_THROW(
        parse(safetensors_bytes(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})"
                                "      ",
                                "z")));
    EXPECT_NO_THROW(parse(safetensors_bytes("{}", "")));
}

struct Malformed {
    const char* what;
    std::string bytes;
    const char* expect;  ///< text the message must contain
};

TEST(Safetensors, RejectsEveryKindOfMalformedHeader) {
    auto raw_len = [](std::uint64_t n, const std::string& rest) {
        std::string out(8, '\0');
        for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
        return out + rest;
    };
    const std::string ok_f32 = R"("dtype":"F32","shape":[2])";
    const std::vector<Malformed> cases = {
        {"short file", "abc", "shorter than the 8-byte"},
        {"huge length", raw_len(1ull << 40, "{}"), "limit"},
        {"length past end", raw_len(100, "{}"), "runs past the end"},
        {"not an object", safetensors_bytes("[1,2]", ""), "does not start with a JSON object"},
        {"bad json", safetensors_bytes("{\"t\":", ""), "not valid JSON"},
        {"metadata not object", safetensors_bytes(R"({"__metadata__":[1]})", ""), "__metadata__"},
        {"metadata value", safetensors_bytes(R"({"__metadata__":{"k":1}})", ""),
         "'k' must be a string"},
        {"entry not object", one("7", ""), "tensor 't' must be an object"},
        {"no dtype", one(R"({"shape":[1],"data_offsets":[0,4]})", "abcd"), "no \"dtype\""},
        {"unknown dtype", one(R"({"dtype":"F128","shape":[1],"data_offsets":[0,4]})", "abcd"),
         "unknown dtype \"F128\""},
        {"no shape", one(R"({"dtype":"F32","data_offsets":[0,4]})", "abcd"), "no \"shape\""},
        {"negative dim", one(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", "abcd"),
         "non-negative integer"},
        {"fractional dim", one(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})", "abcd"),
         "non-negative integer"},
        {"no offsets", one("{" + ok_f32 + "}", std::string(8, 'x')), "data_offsets"},
        {"three offsets", one("{" + ok_f32 + R"(,"data_offsets":[0,4,8]})", std::string(8, 'x')),
         "data_offsets"},
        {"negative offset", one("{" + ok_f32 + R"(,"data_offsets":[-8,0]})", std::string(8, 'x')),
         "non-negative"},
        {"reversed", one("{" + ok_f32 + R"(,"data_offsets":[8,0]})", std::string(8, 'x')),
         "ends before it begins"},
        {"past data", one("{" + ok_f32 + R"(,"data_offsets":[0,8]})", "abcd"),
         "ends at byte 8 of a 4-byte data section"},
        {"size mismatch", one("{" + ok_f32 + R"(,"data_offsets":[0,4]})", "abcd"),
         "spans 4 bytes but its dtype and shape need 8"},
        {"shape overflow",
         one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]})", ""),
         "overflows"},
        {"byte overflow",
         one(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]})", ""),
         "overflows"},
        {"overlap",
         safetensors_bytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                           R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                           "abcdef"),
         "tensor 'b' overlaps tensor 'a'"},
        {"hole",
         safetensors_bytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", "abcd"),
         "bytes 0..2 of the data section belong to no tensor"},
        {"trailing bytes",
         safetensors_bytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd"),
         "2 bytes after the last tensor"},
    };
    for (const Malformed& c : cases) {
        SCOPED_TRACE(c.what);
        std::string msg = rejection(c.bytes);
        EXPECT_NE(msg.find("w.safetensors"), std::string::npos) << msg;
        EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    }
}

TEST(Safetensors, MapsTheFileAndReadsTensorsInPlace) {
    TempDir tmp;
    const auto path = tmp / "m.safetensors";
    write_bytes(path, safetensors_bytes({iota_f32("x", {4}), iota_f32("y", {2, 2})}));
    SafetensorsFile f(path);
    ByteView y = f.tensor_bytes("y");
    ASSERT_EQ(y.size, 16u);
    float v[4];
    std::memcpy(v, y.data, 16);
    EXPECT_EQ(v[0], 0.0f);
    EXPECT_EQ(v[3], 3.0f);
    EXPECT_EQ(f.tensor_bytes("x").size, 16u);
    try {
        f.tensor_bytes("z");
        ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("m.safetensors: has no tensor 'z'"),
                  std::string::npos);
    }
    // Reading the header alone agrees with the mapped parse.
    Header h = read_header(path);
    EXPECT_EQ(h.tensors.size(), 2u);
    EXPECT_EQ(h.data_start, f.header().data_start);
}

TEST(Safetensors, FileErrorsNameTheFile) {
    TempDir tmp;
    try {
        SafetensorsFile f(tmp / "absent.safetensors");
        ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find("absent.safetensors"), std::string::npos);
    }
    write_bytes(tmp / "empty.safetensors", "");
    EXPECT_THROW(SafetensorsFile(tmp / "empty.safetensors"), Error);
    EXPECT_THROW(read_header(tmp / "empty.safetensors"), Error);
    // A download cut inside the header.
    auto full = safetensors_bytes({iota_f32("x", {4})});
    write_bytes(tmp / "cut.safetensors", full.substr(0, 20));
    EXPECT_THROW(read_header(tmp / "cut.safetensors"), Error);
    EXPECT_THROW(SafetensorsFile(tmp / "cut.safetensors"), Error);
}

// Files written by the reference implementation, when python3 has it; our writer could share a
// misreading of the format with our parser, this one cannot.
TEST(Safetensors, ReadsFilesWrittenByTheReferenceLibrary) {
    if (std::system("python3 -c 'import safetensors, numpy' >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "python3 with safetensors and numpy is not installed "
                        "(pip install safetensors numpy) : cross-check skipped";
    }
    TempDir tmp;
    const auto path = tmp / "ref.safetensors";
    const std::string cmd =
        "python3 -c \"import numpy as np; from safetensors.numpy import save_file; "
        "save_file({'w': np.arange(6, dtype=np.float32).reshape(2, 3), 'i': np.array([7, -1], "
        "dtype=np.int64), 'h': np.ones((3,), dtype=np.float16)}, '" +
        path.string() + "', metadata={'k': 'v'})\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    SafetensorsFile f(path);
    EXPECT_EQ(f.header().metadata.at("k"), "v");
    EXPECT_EQ(f.header().find("h")->dtype, DType::F16);
    ByteView w = f.tensor_bytes("w");
    ASSERT_EQ(w.size, 24u);
    float v[6];
    std::memcpy(v, w.data, 24);
    EXPECT_EQ(v[5], 5.0f);
    std::int64_t i[2];
    std::memcpy(i, f.tensor_bytes("i").data, 16);
    EXPECT_EQ(i[1], -1);
}

}  // namespace
