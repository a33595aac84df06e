# Every dependency comes from the system (setup/install_deps.sh), found by config file or pkg-config.
find_package(Threads REQUIRED)
find_package(CLI11 2.1 CONFIG REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(spdlog 1.10 CONFIG REQUIRED)
find_package(CURL 7.80 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
# Debian's libstb ships the compiled implementations: link it and never define *_IMPLEMENTATION.
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
# The mock API server (vmeval mock-api) and the HTTP tests' loopback servers.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

include(VmevalTorch)
if(VMEVAL_HAVE_TORCH)
    # The open models' tokenizers (T5, umT5, Gemma) and the byte-level BPE pre-tokenizer regex.
    pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
    pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
    # Unicode normal forms and case mapping for the tokenizer.json normalizers (CLIP lowercases).
    pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc)
endif()
message(STATUS "vmeval: LibTorch backend ${VMEVAL_HAVE_TORCH} (open models are listed as unavailable without it)")
