// The backend module through the real binary: `vmeval` itself never loads LibTorch; the module is
// opened only when a local model is involved, and a broken module is reported with its fix.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "support/testkit.hpp"

namespace {

using vmeval::testkit::run_vmeval;
using vmeval::testkit::TempDir;

TEST(BackendModule, TheExecutableDoesNotLinkLibTorch) {
    std::string cmd = std::string("readelf -d '") + VMEVAL_BINARY + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string text;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) text += buf;
    ASSERT_EQ(::pclose(p), 0) << cmd;
    ASSERT_NE(text.find("NEEDED"), std::string::npos) << text;
    EXPECT_EQ(text.find("libtorch"), std::string::npos) << text;
    EXPECT_EQ(text.find("libc10"), std::string::npos) << text;
}

TEST(BackendModule, ApiAndBaselineCommandsNeverOpenIt) {
    // LD_DEBUG=files makes the dynamic loader name every object it opens, dlopen included.
    auto r = run_vmeval({"models"}, {"LD_DEBUG=files"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("libvmeval_torch_backend"), std::string::npos);
    EXPECT_EQ(r.err.find("libtorch"), std::string::npos);
}

TEST(BackendModule, DoctorOpensItForLocalModels) {
    auto r = run_vmeval({"doctor", "--json", "-m", "svd"}, {"LD_DEBUG=files"});
    EXPECT_NE(r.err.find("libvmeval_torch_backend.so"), std::string::npos);
    auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.contains("local_runtime")) << r.out;
    EXPECT_TRUE(j["local_runtime"]["loaded"].get<bool>()) << j["local_runtime"].dump();
    EXPECT_NE(j["local_runtime"]["description"].get<std::string>().find("LibTorch 2."), std::string::npos);
}

TEST(BackendModule, ABrokenModuleIsReportedWithItsPathAndFix) {
    TempDir dir;
    auto fake = dir.path() / "libvmeval_torch_backend.so";
    std::ofstream(fake) << "not an ELF file";
    auto r = run_vmeval({"doctor", "--json", "-m", "svd"}, {"VMEVAL_TORCH_BACKEND=" + fake.string()});
    auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j["local_runtime"]["loaded"].get<bool>());
    auto problem = j["local_runtime"]["problem"].get<std::string>();
    EXPECT_NE(problem.find(fake.string()), std::string::npos) << problem;
    EXPECT_NE(problem.find("setup/install_torch.sh"), std::string::npos) << problem;
}

}  // namespace
