# CheckLibrary.cmake — ctest checks of the built libswiftmlp.so, run as
#
#   cmake -DCHECK=<exports|soname|needed> -DLIBRARY=<path> [-DNM=<nm>]
#         [-DREADELF=<readelf>] [-DHEADER=<swiftmlp.h>] [-DSONAME=<soname>]
#         -P CheckLibrary.cmake
#
#   exports  `nm -D --defined-only` lists only swiftmlp_* symbols, and every
#            function declared in the header is among them (as a text symbol).
#   soname   `readelf -d` shows SONAME <SONAME>.
#   needed   no DT_NEEDED entry names a Swift runtime library (the Swift
#            runtime is linked statically, so the library loads on machines
#            without a Swift toolchain).
cmake_minimum_required(VERSION 3.20)

if(NOT DEFINED LIBRARY OR NOT EXISTS "${LIBRARY}")
    message(FATAL_ERROR "LIBRARY not given or missing: '${LIBRARY}'")
endif()

function(run_tool out_var)
    execute_process(COMMAND ${ARGN}
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        string(REPLACE ";" " " cmd "${ARGN}")
        message(FATAL_ERROR "'${cmd}' failed (${rc}):\n${err}")
    endif()
    set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

if(CHECK STREQUAL "exports")
    run_tool(listing "${NM}" -D --defined-only "${LIBRARY}")
    string(REPLACE "\n" ";" lines "${listing}")
    set(bad "")
    set(functions "")
    set(count 0)
    foreach(line IN LISTS lines)
        if(line STREQUAL "")
            continue()
        endif()
        # "<address> <type> <name>[@@version]"
        if(NOT line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^ @]+)")
            list(APPEND bad "unparsed line: ${line}")
            continue()
        endif()
        set(type "${CMAKE_MATCH_1}")
        set(name "${CMAKE_MATCH_2}")
        math(EXPR count "${count} + 1")
        if(NOT name MATCHES "^swiftmlp_")
            list(APPEND bad "${type} ${name}")
        elseif(type STREQUAL "T")
            list(APPEND functions "${name}")
        endif()
    endforeach()
    if(bad)
        string(REPLACE ";" "\n    " bad_text "${bad}")
        message(FATAL_ERROR
            "libswiftmlp exports symbols other than swiftmlp_*:\n    ${bad_text}")
    endif()

    # Every function the header declares must be exported.
    file(READ "${HEADER}" header_text)
    string(REGEX MATCHALL "[ *]swiftmlp_[a-z0-9_]+\\(" decls "${header_text}")
    list(TRANSFORM decls REPLACE "^[ *]|\\($" "" OUTPUT_VARIABLE declared)
    list(REMOVE_DUPLICATES declared)
    list(LENGTH declared n_decls)
    if(n_decls EQUAL 0)
        message(FATAL_ERROR "no swiftmlp_* declarations found in '${HEADER}'")
    endif()
    set(missing "")
    foreach(fn IN LISTS declared)
        if(NOT fn IN_LIST functions)
            list(APPEND missing "${fn}")
        endif()
    endforeach()
    if(missing)
        message(FATAL_ERROR "functions declared in swiftmlp.h but not exported: ${missing}")
    endif()
    list(LENGTH functions n_functions)
    message(STATUS "OK: ${count} dynamic symbols, all swiftmlp_*; "
                   "${n_functions} functions; all ${n_decls} header declarations exported")

elseif(CHECK STREQUAL "soname")
    run_tool(dynamic "${READELF}" -d "${LIBRARY}")
    if(NOT dynamic MATCHES "\\(SONAME\\)[^\n]*\\[([^]]*)\\]")
        message(FATAL_ERROR "no SONAME in ${LIBRARY}:\n${dynamic}")
    endif()
    if(NOT CMAKE_MATCH_1 STREQUAL SONAME)
        message(FATAL_ERROR "SONAME is '${CMAKE_MATCH_1}', expected '${SONAME}'")
    endif()
    message(STATUS "OK: SONAME ${CMAKE_MATCH_1}")

elseif(CHECK STREQUAL "needed")
    run_tool(dynamic "${READELF}" -d "${LIBRARY}")
    string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*\\[[^]]*\\]" needed_lines "${dynamic}")
    list(TRANSFORM needed_lines REPLACE ".*\\[([^]]*)\\]" "\\1" OUTPUT_VARIABLE needed)
    set(swift_libs "")
    foreach(lib IN LISTS needed)
        if(lib MATCHES "^lib(swift|Foundation|FoundationEssentials|FoundationInternationalization|_FoundationICU|dispatch|BlocksRuntime)")
            list(APPEND swift_libs "${lib}")
        endif()
    endforeach()
    if(swift_libs)
        message(FATAL_ERROR "libswiftmlp needs Swift runtime libraries: ${swift_libs}\n(all NEEDED: ${needed})")
    endif()
    message(STATUS "OK: NEEDED ${needed}")

else()
    message(FATAL_ERROR "unknown CHECK '${CHECK}' (exports, soname or needed)")
endif()
