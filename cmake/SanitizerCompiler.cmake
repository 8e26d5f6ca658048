# SanitizerCompiler.cmake — included by the top-level CMakeLists.txt BEFORE
# project(), so that a sanitizer build (-DSWIFTMLP_SANITIZE=...) compiles its
# C code with the clang of the Swift toolchain that builds libswiftmlp.
#
# Why: an instrumented libswiftmlp.so does not contain a sanitizer runtime; it
# leaves __asan_* / __tsan_* / __ubsan_* / __sanitizer_cov_* undefined and
# takes them from the executable that loads it.  The C executables must
# therefore carry the runtime of the SAME compiler-rt version that the Swift
# compiler instrumented against (the Swift toolchain's clang links its
# libclang_rt.*.a statically into each executable and exports the symbols).
# Debian's gcc ships its own libasan/libtsan with a different ABI version, so
# gcc is refused for sanitizer builds (cmake/Sanitizers.cmake checks it).
#
# Only acts when SWIFTMLP_SANITIZE is non-empty and no C compiler was chosen
# (neither -DCMAKE_C_COMPILER nor $CC); the normal build is untouched.
set(SWIFTMLP_SANITIZE "" CACHE STRING
    "Sanitizer build: a comma- or semicolon-separated list of address, undefined, thread, fuzzer (empty: the normal build)")

if(SWIFTMLP_SANITIZE AND NOT CMAKE_C_COMPILER AND NOT DEFINED ENV{CC})
    find_program(SWIFT_EXECUTABLE swift REQUIRED
                 DOC "The swift driver (SwiftPM builds the numeric core)")
    get_filename_component(_swiftmlp_swift_real "${SWIFT_EXECUTABLE}" REALPATH)
    get_filename_component(_swiftmlp_toolchain_bin "${_swiftmlp_swift_real}" DIRECTORY)
    if(EXISTS "${_swiftmlp_toolchain_bin}/clang" AND EXISTS "${_swiftmlp_toolchain_bin}/clang++")
        set(CMAKE_C_COMPILER "${_swiftmlp_toolchain_bin}/clang" CACHE FILEPATH "C compiler")
        set(CMAKE_CXX_COMPILER "${_swiftmlp_toolchain_bin}/clang++" CACHE FILEPATH "C++ compiler")
        message(STATUS "SWIFTMLP_SANITIZE=${SWIFTMLP_SANITIZE}: using the Swift toolchain's clang "
                       "(${CMAKE_C_COMPILER}) so the C code and libswiftmlp share one sanitizer runtime")
    else()
        message(WARNING "SWIFTMLP_SANITIZE is set but no clang was found next to ${_swiftmlp_swift_real}; "
                        "pass -DCMAKE_C_COMPILER=<the Swift toolchain's clang>")
    endif()
endif()
