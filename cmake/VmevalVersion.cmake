# The git commit is baked in at build time so that every metadata.json names the code that made it.
set(VMEVAL_VERSION_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/version.cpp)
add_custom_target(vmeval_version_info
    COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_CURRENT_SOURCE_DIR} -DOUT=${VMEVAL_VERSION_CPP}
            -DVERSION=${PROJECT_VERSION} -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/WriteVersion.cmake
    BYPRODUCTS ${VMEVAL_VERSION_CPP}
    COMMENT "Recording the git commit")
