function(vmeval_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
    if(VMEVAL_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

# Sanitizers and fuzzing instrument every target defined after this point (libraries, the test
# kit, test executables, tools): a library left out would hide its bugs from the sanitizer and,
# for the fuzzer, from the coverage feedback.
if(VMEVAL_SANITIZE)
    add_compile_options(-fsanitize=${VMEVAL_SANITIZE} -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${VMEVAL_SANITIZE})
    if(VMEVAL_SANITIZE MATCHES "undefined")
        # UBSan only prints by default; a test run must fail on undefined behaviour.
        add_compile_options(-fno-sanitize-recover=undefined)
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # GCC warns about uninitialised reads inside <regex> and <functional> under ASan that do
        # not exist (its instrumentation confuses the flow analysis); the normal build keeps it.
        add_compile_options(-Wno-maybe-uninitialized)
    endif()
endif()
if(VMEVAL_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "VMEVAL_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
    endif()
    # The fuzz targets add -fsanitize=fuzzer themselves (it brings libFuzzer's main).
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
endif()
