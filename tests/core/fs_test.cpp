#include "vmeval/core/fs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace fs_util = vmeval::fs_util;

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    return names;
}

}  // namespace

TEST(WriteFileAtomic, WritesExactContent) {
    TempDir dir;
    fs::path p = dir / "a.json";
    fs_util::write_file_atomic(p, "{\"x\": 1}\n");
    EXPECT_EQ(read_text(p), "{\"x\": 1}\n");
}

TEST(WriteFileAtomic, KeepsBinaryBytesIncludingNul) {
    TempDir dir;
    fs::path p = dir / "b.bin";
    std::string data("a\0b\xff\n", 5);
    fs_util::write_file_atomic(p, data);
    EXPECT_EQ(read_text(p), data);
    EXPECT_EQ(fs::file_size(p), 5u);
}

TEST(WriteFileAtomic, ReplacesExistingFileAndLeavesNoTemporaryFiles) {
    TempDir dir;
    fs::path p = dir / "meta.json";
    write_text(p, "old content that is longer than the new one");
    fs_util::write_file_atomic(p, "new");
    EXPECT_EQ(read_text(p), "new");
    for (int i = 0; i < 20; ++i) fs_util::write_file_atomic(p, "v" + std::to_string(i));
    EXPECT_EQ(read_text(p), "v19");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"meta.json"});
}

TEST(WriteFileAtomic, EmptyContentGivesEmptyFile) {
    TempDir dir;
    fs::path p = dir / "empty";
    fs_util::write_file_atomic(p, "");
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(fs::file_size(p), 0u);
}

TEST(WriteFileAtomic, MissingFolderIsIoErrorAndLeavesNothing) {
    TempDir dir;
    fs::path p = dir / "no" / "such" / "dir" / "f.txt";
    try {
        fs_util::write_file_atomic(p, "x");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
    }
    EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(ReadFile, ReadsWholeFile) {
    TempDir dir;
    std::string big(200000, 'x');
    big[12345] = 'y';
    write_text(dir / "big.txt", big);
    EXPECT_EQ(fs_util::read_file(dir / "big.txt"), big);
}

TEST(ReadFile, MissingFileIsIoErrorNamingIt) {
    TempDir dir;
    fs::path p = dir / "missing.txt";
    try {
        fs_util::read_file(p);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
}

TEST(CopyFile, CopiesAndOverwrites) {
    TempDir dir;
    write_text(dir / "src.txt", "source");
    write_text(dir / "dst.txt", "old");
    fs_util::copy_file(dir / "src.txt", dir / "dst.txt");
    EXPECT_EQ(read_text(dir / "dst.txt"), "source");
}

TEST(CopyFile, FollowsSymlinks) {
    TempDir dir;
    write_text(dir / "real.txt", "real");
    fs::create_symlink(dir / "real.txt", dir / "link.txt");
    fs_util::copy_file(dir / "link.txt", dir / "copy.txt");
    EXPECT_FALSE(fs::is_symlink(fs::symlink_status(dir / "copy.txt")));
    EXPECT_EQ(read_text(dir / "copy.txt"), "real");
}

TEST(CopyFile, MissingSourceIsIoErrorNamingBothPaths) {
    TempDir dir;
    try {
        fs_util::copy_file(dir / "nope.txt", dir / "out.txt");
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(msg.find("nope.txt"), std::string::npos) << msg;
        EXPECT_NE(msg.find("out.txt"), std::string::npos) << msg;
    }
}

TEST(SyncDirectory, ExistingAndMissingFoldersDoNotThrow) {
    TempDir dir;
    EXPECT_NO_THROW(fs_util::sync_directory(dir.path()));
    EXPECT_NO_THROW(fs_util::sync_directory(dir / "missing"));
}

TEST(IsWithin, PlainPathsInsideAndOutside) {
    TempDir dir;
    fs::create_directories(dir / "root" / "a" / "b");
    write_text(dir / "root" / "a" / "b" / "f.txt", "x");
    write_text(dir / "outside.txt", "x");
    fs::path root = dir / "root";
    EXPECT_TRUE(fs_util::is_within(root / "a" / "b" / "f.txt", root));
    EXPECT_TRUE(fs_util::is_within(root / "a", root));
    EXPECT_TRUE(fs_util::is_within(root, root));
    EXPECT_FALSE(fs_util::is_within(dir / "outside.txt", root));
    EXPECT_FALSE(fs_util::is_within(dir.path(), root));
}

TEST(IsWithin, TrailingSeparatorOnRootIsAccepted) {
    TempDir dir;
    fs::create_directories(dir / "root" / "a");
    fs::path root_slash = (dir / "root").string() + "/";
    EXPECT_TRUE(fs_util::is_within(dir / "root" / "a", root_slash));
}

TEST(IsWithin, SiblingSharingNamePrefixIsOutside) {
    TempDir dir;
    fs::create_directories(dir / "root");
    fs::create_directories(dir / "root2");
    write_text(dir / "root2" / "f.txt", "x");
    EXPECT_FALSE(fs_util::is_within(dir / "root2" / "f.txt", dir / "root"));
}

TEST(IsWithin, DotDotEscapingRootIsOutside) {
    TempDir dir;
    fs::create_directories(dir / "root" / "a");
    write_text(dir / "secret.txt", "x");
    EXPECT_FALSE(fs_util::is_within(dir / "root" / "a" / ".." / ".." / "secret.txt", dir / "root"));
    EXPECT_TRUE(fs_util::is_within(dir / "root" / "a" / "..", dir / "root"));
}

TEST(IsWithin, SymlinkInsidePointingOutsideIsOutside) {
    TempDir dir;
    fs::create_directories(dir / "root");
    write_text(dir / "elsewhere" / "f.png", "x");
    fs::create_symlink(dir / "elsewhere" / "f.png", dir / "root" / "link.png");
    fs::create_directory_symlink(dir / "elsewhere", dir / "root" / "linkdir");
    EXPECT_FALSE(fs_util::is_within(dir / "root" / "link.png", dir / "root"));
    EXPECT_FALSE(fs_util::is_within(dir / "root" / "linkdir" / "f.png", dir / "root"));
}

TEST(IsWithin, SymlinkOutsidePointingInsideIsInside) {
    TempDir dir;
    write_text(dir / "root" / "f.png", "x");
    fs::create_symlink(dir / "root" / "f.png", dir / "outside_link.png");
    EXPECT_TRUE(fs_util::is_within(dir / "outside_link.png", dir / "root"));
}

TEST(IsWithin, RootGivenThroughSymlinkIsResolvedToo) {
    TempDir dir;
    write_text(dir / "real_root" / "f.png", "x");
    fs::create_directory_symlink(dir / "real_root", dir / "root_link");
    EXPECT_TRUE(fs_util::is_within(dir / "real_root" / "f.png", dir / "root_link"));
    EXPECT_TRUE(fs_util::is_within(dir / "root_link" / "f.png", dir / "real_root"));
}

TEST(IsWithin, NotYetExistingPathInsideRootIsInside) {
    TempDir dir;
    fs::create_directories(dir / "root");
    EXPECT_TRUE(fs_util::is_within(dir / "root" / "new" / "file.txt", dir / "root"));
    EXPECT_FALSE(fs_util::is_within(dir / "other" / "file.txt", dir / "root"));
}
