#!/usr/bin/env bash
# The C ABI as a package: `cmake --install` into a temporary prefix, then a C program built the
# way a user builds one, with nothing but the installed headers, pkg-config and the library.
#   installed_package.sh BUILD_DIR C_PROGRAM C_COMPILER LINKER [EXTRA_FLAGS]
# LINKER is the C compiler, except in the sanitizer build: its runtime for the library's C++ is
# linked by the C++ driver.
set -euo pipefail
build=$1 program=$2 cc=$3 ld=$4 extra=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name openmapi-mapi32.pc | head -1)
[ -n "$pc" ] || { echo "no openmapi-mapi32.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir openmapi-mapi32)
[ -e "$libdir/libopenmapi-mapi32.so.1" ] || { echo "no libopenmapi-mapi32.so.1 in $libdir"; exit 1; }
[ -e "$(pkg-config --variable=includedir openmapi-mapi32)/mapix.h" ] || { echo "no mapix.h installed"; exit 1; }
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 -Wall -Werror $extra -c "$program" -o "$tmp/program.o" $(pkg-config --cflags openmapi-mapi32)
"$ld" $extra "$tmp/program.o" -o "$tmp/program" $(pkg-config --libs openmapi-mapi32) -Wl,-rpath,"$libdir"
"$tmp/program"
# The soname: programs link against the major version.
readelf -d "$tmp/program" | grep -q 'libopenmapi-mapi32.so.1' || { echo "the program does not need libopenmapi-mapi32.so.1"; exit 1; }
echo "installed package: ok"
