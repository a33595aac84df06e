# ccache turns a repeated clean build from minutes into seconds; use it when it is installed.
find_program(VMEVAL_CCACHE ccache)
if(VMEVAL_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${VMEVAL_CCACHE})
endif()
