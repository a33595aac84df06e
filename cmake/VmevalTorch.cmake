# LibTorch from the PyPI `torch` wheel (setup/install_torch.sh). Included by VmevalDependencies when
# VMEVAL_WITH_TORCH is not OFF; sets VMEVAL_HAVE_TORCH and defines vmeval_torch_target().
if(VMEVAL_WITH_TORCH STREQUAL "OFF")
    set(VMEVAL_HAVE_TORCH OFF)
    return()
endif()

# Find the wheel's CMake package without the user passing CMAKE_PREFIX_PATH.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_FOUND AND NOT Torch_DIR)
    execute_process(
        COMMAND ${Python3_EXECUTABLE} -c "import torch.utils, os; print(torch.utils.cmake_prefix_path)"
        OUTPUT_VARIABLE VMEVAL_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(VMEVAL_TORCH_PREFIX)
        list(APPEND CMAKE_PREFIX_PATH ${VMEVAL_TORCH_PREFIX})
    endif()
endif()
# We compile no .cu files; naming the archs keeps Caffe2's config from probing and warning.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()
find_package(Torch QUIET)
if(NOT Torch_FOUND)
    if(VMEVAL_WITH_TORCH STREQUAL "ON")
        message(FATAL_ERROR "VMEVAL_WITH_TORCH=ON but LibTorch was not found: run setup/install_torch.sh "
                            "or pass -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')")
    endif()
    set(VMEVAL_HAVE_TORCH OFF)
    return()
endif()
set(VMEVAL_HAVE_TORCH ON)

# The CUDA wheel's libraries find their NVIDIA dependencies (nccl, cudnn, cublas...) at run time
# through RUNPATH entries relative to site-packages. The link editor does not follow those, and
# would pick an older system libnccl instead; point it at the wheel's copies.
get_filename_component(VMEVAL_TORCH_SITE "${TORCH_INSTALL_PREFIX}/.." ABSOLUTE)
file(GLOB VMEVAL_TORCH_NVIDIA_LIBS LIST_DIRECTORIES true "${VMEVAL_TORCH_SITE}/nvidia/*/lib")
set(VMEVAL_TORCH_LINK_OPTIONS "")
foreach(dir ${VMEVAL_TORCH_NVIDIA_LIBS})
    list(APPEND VMEVAL_TORCH_LINK_OPTIONS "LINKER:-rpath-link,${dir}")
endforeach()

# vmeval_torch_target(<target>): LibTorch flags, the shared precompiled ATen header, warnings.
# Every torch target reuses one precompiled header, so ATen's headers are parsed once per build.
function(vmeval_torch_target target)
    target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
    target_link_options(${target} PUBLIC ${VMEVAL_TORCH_LINK_OPTIONS})
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    if(TARGET vmeval_torch_pch AND NOT target STREQUAL "vmeval_torch_pch")
        target_precompile_headers(${target} REUSE_FROM vmeval_torch_pch)
    endif()
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
        # The shared precompiled header is built -fPIC; GCC refuses it in a -fPIE compile.
        target_compile_options(${target} PRIVATE -fPIC)
    endif()
    vmeval_set_warnings(${target})
    # LibTorch's headers trip -Wpedantic/-Wshadow in places we do not own.
    target_compile_options(${target} PRIVATE -Wno-shadow -Wno-pedantic)
endfunction()
