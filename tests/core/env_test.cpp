#include "vmeval/core/env.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;

/// Unsets the listed variables now and again when the test ends.
class ScopedUnset {
public:
    explicit ScopedUnset(std::vector<std::string> names) : names_(std::move(names)) { clear(); }
    ~ScopedUnset() { clear(); }

private:
    void clear() {
        for (const auto& n : names_) ::unsetenv(n.c_str());
    }
    std::vector<std::string> names_;
};

std::string env(const char* name) { return vmeval::env_or_empty(name); }

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

/// Loads `text` as a .env file, expecting Error(Config); returns the message.
std::string config_error(const fs::path& file, const std::string& text) {
    write_text(file, text);
    try {
        vmeval::load_dotenv(file);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected Error(Config) for:\n" << text;
    return "";
}

}  // namespace

TEST(LoadDotenv, MissingFileIsNotAnErrorAndSetsNothing) {
    TempDir dir;
    EXPECT_TRUE(vmeval::load_dotenv(dir / "does-not-exist.env").empty());
}

TEST(LoadDotenv, SetsPlainValuesAndReturnsTheirNames) {
    ScopedUnset guard({"VMEVAL_T_A", "VMEVAL_T_B"});
    TempDir dir;
    write_text(dir / ".env", "VMEVAL_T_A=alpha\nVMEVAL_T_B=beta gamma\n");
    auto names = vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(names, (std::vector<std::string>{"VMEVAL_T_A", "VMEVAL_T_B"}));
    EXPECT_EQ(env("VMEVAL_T_A"), "alpha");
    EXPECT_EQ(env("VMEVAL_T_B"), "beta gamma");
}

TEST(LoadDotenv, SkipsCommentsAndBlankLines) {
    ScopedUnset guard({"VMEVAL_T_C", "VMEVAL_T_HIDDEN"});
    TempDir dir;
    write_text(dir / ".env",
               "# a comment\n"
               "\n"
               "   # indented comment\n"
               "#VMEVAL_T_HIDDEN=no\n"
               "   \t\n"
               "VMEVAL_T_C=yes\n");
    auto names = vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(names, std::vector<std::string>{"VMEVAL_T_C"});
    EXPECT_EQ(env("VMEVAL_T_C"), "yes");
    EXPECT_EQ(std::getenv("VMEVAL_T_HIDDEN"), nullptr);
}

TEST(LoadDotenv, AcceptsExportPrefixAndSpacesAroundEquals) {
    ScopedUnset guard({"VMEVAL_T_EXP", "VMEVAL_T_SP"});
    TempDir dir;
    write_text(dir / ".env", "export VMEVAL_T_EXP=exported\n  VMEVAL_T_SP = spaced  \n");
    auto names = vmeval::load_dotenv(dir / ".env");
    EXPECT_TRUE(has(names, "VMEVAL_T_EXP"));
    EXPECT_TRUE(has(names, "VMEVAL_T_SP"));
    EXPECT_EQ(env("VMEVAL_T_EXP"), "exported");
    EXPECT_EQ(env("VMEVAL_T_SP"), "spaced");
}

TEST(LoadDotenv, StripsDoubleAndSingleQuotesKeepingInnerText) {
    ScopedUnset guard({"VMEVAL_T_DQ", "VMEVAL_T_SQ", "VMEVAL_T_HASHQ", "VMEVAL_T_EMPTYQ"});
    TempDir dir;
    write_text(dir / ".env",
               "VMEVAL_T_DQ=\"double quoted value\"\n"
               "VMEVAL_T_SQ='single \"inner\" value'\n"
               "VMEVAL_T_HASHQ=\"has # hash\"\n"
               "VMEVAL_T_EMPTYQ=\"\"\n");
    vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(env("VMEVAL_T_DQ"), "double quoted value");
    EXPECT_EQ(env("VMEVAL_T_SQ"), "single \"inner\" value");
    EXPECT_EQ(env("VMEVAL_T_HASHQ"), "has # hash");
    ASSERT_NE(std::getenv("VMEVAL_T_EMPTYQ"), nullptr);
    EXPECT_EQ(env("VMEVAL_T_EMPTYQ"), "");
}

TEST(LoadDotenv, InlineCommentAfterUnquotedValueIsDropped) {
    ScopedUnset guard({"VMEVAL_T_IC", "VMEVAL_T_NOSPACE"});
    TempDir dir;
    write_text(dir / ".env", "VMEVAL_T_IC=value # explanation\nVMEVAL_T_NOSPACE=a#b\n");
    vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(env("VMEVAL_T_IC"), "value");
    EXPECT_EQ(env("VMEVAL_T_NOSPACE"), "a#b");
}

TEST(LoadDotenv, WindowsLineEndingsAreTrimmed) {
    ScopedUnset guard({"VMEVAL_T_CRLF"});
    TempDir dir;
    write_text(dir / ".env", "VMEVAL_T_CRLF=value\r\n");
    vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(env("VMEVAL_T_CRLF"), "value");
}

TEST(LoadDotenv, ExistingVariableIsNotOverriddenNorReported) {
    ScopedUnset guard({"VMEVAL_T_EXISTING", "VMEVAL_T_NEW"});
    ::setenv("VMEVAL_T_EXISTING", "from-shell", 1);
    TempDir dir;
    write_text(dir / ".env", "VMEVAL_T_EXISTING=from-file\nVMEVAL_T_NEW=new\n");
    auto names = vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(env("VMEVAL_T_EXISTING"), "from-shell");
    EXPECT_FALSE(has(names, "VMEVAL_T_EXISTING"));
    EXPECT_TRUE(has(names, "VMEVAL_T_NEW"));
}

TEST(LoadDotenv, ExistingEmptyVariableIsNotOverridden) {
    ScopedUnset guard({"VMEVAL_T_EMPTY_EXISTING"});
    ::setenv("VMEVAL_T_EMPTY_EXISTING", "", 1);
    TempDir dir;
    write_text(dir / ".env", "VMEVAL_T_EMPTY_EXISTING=from-file\n");
    vmeval::load_dotenv(dir / ".env");
    EXPECT_EQ(env("VMEVAL_T_EMPTY_EXISTING"), "");
}

TEST(LoadDotenv, LineWithoutEqualsIsConfigErrorWithFileAndLine) {
    ScopedUnset guard({"VMEVAL_T_OK1"});
    TempDir dir;
    fs::path f = dir / "bad.env";
    std::string msg = config_error(f, "# comment\nVMEVAL_T_OK1=1\nthis line is wrong\n");
    EXPECT_NE(msg.find(f.string() + ":3"), std::string::npos) << msg;
}

TEST(LoadDotenv, InvalidNameIsConfigErrorWithFileAndLine) {
    TempDir dir;
    fs::path f = dir / "bad.env";
    std::string msg = config_error(f, "1BAD=value\n");
    EXPECT_NE(msg.find(f.string() + ":1"), std::string::npos) << msg;
    msg = config_error(f, "\n\nBAD-NAME=value\n");
    EXPECT_NE(msg.find(f.string() + ":3"), std::string::npos) << msg;
    msg = config_error(f, "=value\n");
    EXPECT_NE(msg.find(f.string() + ":1"), std::string::npos) << msg;
}

TEST(LoadDotenv, UnterminatedQuoteIsConfigErrorThatDoesNotEchoTheValue) {
    ScopedUnset guard({"GEMINI_API_KEY_VMEVAL_TEST"});
    TempDir dir;
    fs::path f = dir / "bad.env";
    std::string msg = config_error(f, "GEMINI_API_KEY_VMEVAL_TEST=\"sk-secret-test-value\n");
    EXPECT_NE(msg.find(f.string() + ":1"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("sk-secret-test-value"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("secret"), std::string::npos) << msg;
}

TEST(LoadDotenv, ErrorMessagesNeverContainTheValue) {
    TempDir dir;
    fs::path f = dir / "bad.env";
    for (const char* text : {"MY KEY=sk-secret-test-value\n", "1KEY=sk-secret-test-value\n",
                             "KEY='sk-secret-test-value\n", "sk-secret-test-value\n"}) {
        std::string msg = config_error(f, text);
        EXPECT_EQ(msg.find("sk-secret-test-value"), std::string::npos) << text << " -> " << msg;
    }
}

TEST(EnvOrEmpty, ReturnsValueOrEmpty) {
    ScopedUnset guard({"VMEVAL_T_E"});
    EXPECT_EQ(vmeval::env_or_empty("VMEVAL_T_E"), "");
    ::setenv("VMEVAL_T_E", "v", 1);
    EXPECT_EQ(vmeval::env_or_empty("VMEVAL_T_E"), "v");
}
