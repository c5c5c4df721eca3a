# Static linking for the `static` preset (CMakePresets.json), read right after project() through
# CMAKE_PROJECT_INCLUDE: every library comes from its Debian archive (*.a) and only glibc and libpq
# stay shared, so the binary runs on any x86-64 Linux with glibc 2.36 or newer (Debian 12, Ubuntu
# 22.10+) that has libpq5 installed (the container's runtime stage does).

# libpq is linked shared: Debian's libpq.a needs libpgcommon and libpgport and static GSSAPI and
# LDAP libraries, which Debian does not ship. FindPostgreSQL keeps a PostgreSQL_LIBRARY set before.
set(CMAKE_FIND_LIBRARY_SUFFIXES .so)
find_library(PostgreSQL_LIBRARY NAMES pq REQUIRED)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(Boost_USE_STATIC_LIBS ON)
set(OPENSSL_USE_STATIC_LIBS ON)

# yaml-cpp's CMake package in Debian describes only the shared library. A target of the same name
# defined first makes that package keep it.
find_library(MONOLITE_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a REQUIRED)
add_library(yaml-cpp STATIC IMPORTED GLOBAL)
set_target_properties(yaml-cpp PROPERTIES IMPORTED_LOCATION "${MONOLITE_YAML_CPP_ARCHIVE}")

# --exclude-libs: the static archives' symbols stay inside the binary. Exported, they would bind
# libpq and its shared libssl/libcrypto partly to our static OpenSSL: two OpenSSL states, a crash.
add_link_options(-static-libstdc++ -static-libgcc -Wl,--gc-sections -Wl,--as-needed -Wl,--exclude-libs,ALL)
add_compile_options(-ffunction-sections -fdata-sections)
