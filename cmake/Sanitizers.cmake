# Sanitizers.cmake — sanitizer and fuzzing builds of libswiftmlp and of every
# C program of this project (cmocka tests, examples, stress/, fuzz/).
# Included by the top-level CMakeLists.txt after project(); does nothing when
# SWIFTMLP_SANITIZE is empty (the normal build).
#
#   cmake -S . -B build-asan -DSWIFTMLP_SANITIZE=address,undefined
#   cmake -S . -B build-tsan -DSWIFTMLP_SANITIZE=thread
#   cmake -S . -B build-fuzz -DSWIFTMLP_SANITIZE=fuzzer,address -DSWIFTMLP_BUILD_TESTS=OFF
#
# What it sets up:
# - SwiftPM builds libswiftmlp into its own scratch directory
#   (SWIFTMLP_SWIFTPM_SCRATCH_PATH, default .build-asan / .build-tsan /
#   .build-fuzz in the package root; .build-*/ is gitignored) with
#       address   -> --sanitize=address  (Swift and C targets)
#       thread    -> --sanitize=thread
#       fuzzer    -> --sanitize=fuzzer   (coverage instrumentation only: the
#                    libFuzzer runtime comes with the fuzz target executable)
#       fuzzer,address -> --sanitize=address -Xswiftc -sanitize=address,fuzzer
#                    -Xcc -fsanitize=fuzzer-no-link (see below why not two
#                    --sanitize flags)
#       undefined -> -Xcc -fsanitize=undefined: swiftc has no UBSan on Linux
#                    ("unsupported option '-sanitize=undefined'"); Swift code
#                    checks overflow, bounds and unwrapping itself and traps,
#                    so only the package's C sources (the error-message shim,
#                    swift-numerics' shims) get UBSan.
#   The release .build/ tree and its product are not touched, and Package.swift
#   is unchanged: the sanitizer .so keeps -static-stdlib, the SONAME and the
#   version script.  That works because the instrumented .so leaves the
#   sanitizer entry points undefined and the executable supplies them.
# - Every C/C++ target gets -fsanitize=<list> -fno-omit-frame-pointer -g
#   (fuzzer: -fsanitize=fuzzer-no-link; the fuzz targets add
#   -fsanitize=fuzzer themselves), and UBSan checks are made fatal with
#   -fno-sanitize-recover=undefined.
# The run-time options (ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS, ...) are
# set by scripts/sanitize.sh.  Without them a plain `ctest --test-dir
# build-asan` still fails on any report: ASan and the fatal UBSan checks end
# the process, LeakSanitizer is on by default, and TSan exits with 66.
set(SWIFTMLP_SANITIZERS "")
set(SWIFTMLP_SWIFTPM_SANITIZE_ARGS "")

if(NOT SWIFTMLP_SANITIZE)
    return()
endif()

string(REPLACE "," ";" SWIFTMLP_SANITIZERS "${SWIFTMLP_SANITIZE}")
list(TRANSFORM SWIFTMLP_SANITIZERS STRIP)
list(REMOVE_DUPLICATES SWIFTMLP_SANITIZERS)
foreach(san IN LISTS SWIFTMLP_SANITIZERS)
    if(NOT san MATCHES "^(address|undefined|thread|fuzzer)$")
        message(FATAL_ERROR "SWIFTMLP_SANITIZE: unknown sanitizer '${san}' "
                            "(use address, undefined, thread, fuzzer)")
    endif()
    string(TOUPPER "${san}" SAN)
    set(SWIFTMLP_SANITIZE_${SAN} ON)
endforeach()
if(SWIFTMLP_SANITIZE_THREAD AND SWIFTMLP_SANITIZE_ADDRESS)
    message(FATAL_ERROR "SWIFTMLP_SANITIZE: thread and address cannot be combined")
endif()
if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR
        "SWIFTMLP_SANITIZE needs the Swift toolchain's clang as the C compiler (found "
        "${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER}): its sanitizer runtime must match the one "
        "swiftc instrumented libswiftmlp for. Configure a fresh build directory without "
        "-DCMAKE_C_COMPILER/CC, or point it at <swift toolchain>/usr/bin/clang.")
endif()

# The build directory (build-asan/, ...) sits in the source tree; keep git
# from listing it (the repository's .gitignore only knows build/).
if(NOT EXISTS "${PROJECT_BINARY_DIR}/.gitignore")
    file(WRITE "${PROJECT_BINARY_DIR}/.gitignore" "# written by cmake/Sanitizers.cmake\n*\n")
endif()

# ---- SwiftPM ------------------------------------------------------------------
if(SWIFTMLP_SANITIZE_THREAD)
    set(_scratch ".build-tsan")
elseif(SWIFTMLP_SANITIZE_FUZZER)
    set(_scratch ".build-fuzz")
elseif(SWIFTMLP_SANITIZE_ADDRESS)
    set(_scratch ".build-asan")
else()
    set(_scratch ".build-ubsan")
endif()
set(SWIFTMLP_SWIFTPM_SCRATCH_PATH "${PROJECT_SOURCE_DIR}/${_scratch}" CACHE PATH
    "SwiftPM scratch directory of the sanitizer build of libswiftmlp")

# SwiftPM passes each --sanitize=X to swift-frontend as its own -sanitize=X
# flag, and the frontend keeps only the last one -- in an order that changes
# from one build plan to the next (seen: a rebuild of .build-fuzz lost its
# coverage counters).  So SwiftPM gets at most ONE --sanitize (the runtime
# one, which also instruments the C targets and is used for linking), and
# the Swift code gets the complete list as one -Xswiftc -sanitize=a,b flag,
# which comes last and therefore wins.
set(_swift_sans "")
foreach(san address thread fuzzer)
    string(TOUPPER "${san}" SAN)
    if(SWIFTMLP_SANITIZE_${SAN})
        list(APPEND _swift_sans ${san})
    endif()
endforeach()
list(LENGTH _swift_sans _n_swift_sans)
if(_n_swift_sans EQUAL 1)
    list(APPEND SWIFTMLP_SWIFTPM_SANITIZE_ARGS "--sanitize=${_swift_sans}")
elseif(_n_swift_sans GREATER 1)
    # fuzzer plus address (thread+address was refused above).
    string(REPLACE ";" "," _joined "${_swift_sans}")
    list(APPEND SWIFTMLP_SWIFTPM_SANITIZE_ARGS "--sanitize=address"
         -Xswiftc "-sanitize=${_joined}" -Xcc -fsanitize=fuzzer-no-link)
endif()
if(SWIFTMLP_SANITIZE_UNDEFINED)
    list(APPEND SWIFTMLP_SWIFTPM_SANITIZE_ARGS
         -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
endif()
list(APPEND SWIFTMLP_SWIFTPM_SANITIZE_ARGS -Xcc -fno-omit-frame-pointer)
list(PREPEND SWIFTMLP_SWIFTPM_SANITIZE_ARGS --scratch-path "${SWIFTMLP_SWIFTPM_SCRATCH_PATH}")

# ---- C and C++ ----------------------------------------------------------------
set(_runtime_sans ${SWIFTMLP_SANITIZERS})
list(REMOVE_ITEM _runtime_sans fuzzer)
set(_flags -fno-omit-frame-pointer -g)
if(_runtime_sans)
    string(REPLACE ";" "," _list "${_runtime_sans}")
    list(APPEND _flags "-fsanitize=${_list}")
endif()
if(SWIFTMLP_SANITIZE_UNDEFINED)
    list(APPEND _flags -fno-sanitize-recover=undefined)
endif()
if(SWIFTMLP_SANITIZE_FUZZER)
    list(APPEND _flags -fsanitize=fuzzer-no-link)
endif()
add_compile_options(${_flags})
if(_runtime_sans)
    add_link_options("-fsanitize=${_list}")
endif()
# The Swift toolchain's clang links with gold by default, which warns about
# every local symbol of the ASan runtime ("Cannot export local symbol");
# its own lld does not.
get_filename_component(_cc_dir "${CMAKE_C_COMPILER}" DIRECTORY)
if(EXISTS "${_cc_dir}/ld.lld")
    add_link_options(-fuse-ld=lld)
endif()
# The Swift toolchain's ThreadSanitizer runtime also intercepts libdispatch
# (it is built for Swift programs), so a C program linked with it needs
# libdispatch and the blocks runtime: take the toolchain's static copies
# (swiftc links the same ones into Swift programs built with -sanitize=thread).
if(SWIFTMLP_SANITIZE_THREAD)
    get_filename_component(_toolchain_usr "${_cc_dir}" DIRECTORY)
    set(_static_dir "${_toolchain_usr}/lib/swift_static/linux")
    if(EXISTS "${_static_dir}/libdispatch.a" AND EXISTS "${_static_dir}/libBlocksRuntime.a")
        find_package(Threads REQUIRED)
        link_libraries("${_static_dir}/libdispatch.a" "${_static_dir}/libBlocksRuntime.a" Threads::Threads)
    else()
        message(WARNING "SWIFTMLP_SANITIZE=thread: no libdispatch.a/libBlocksRuntime.a in ${_static_dir}; "
                        "linking C programs with the TSan runtime may fail")
    endif()
endif()

message(STATUS "Sanitizer build (${SWIFTMLP_SANITIZE}): C flags ${_flags}; "
               "SwiftPM ${SWIFTMLP_SWIFTPM_SANITIZE_ARGS}")
