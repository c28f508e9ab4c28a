#!/bin/sh
# Builds benchmarks/native/conv_algos.cpp against native/src (the same flags as
# native/CMakeLists.txt) and runs it: the conv2d algorithms on the f21-cnn shapes.
# Needs the OpenBLAS the build unpacked (run `mvn -B -DskipTests package` once first).
#   benchmarks/scripts/conv_algos.sh [batch] [timed runs] [threads up to]
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
ob=$root/java/target/openblas/org/bytedeco/openblas/linux-x86_64
[ -f "$ob/libopenblas.so.0" ] || { echo "no OpenBLAS at $ob: run 'mvn -B -DskipTests package' first" >&2; exit 2; }
out=${TMPDIR:-/tmp}/cleave-conv-algos
mkdir -p "$out"
g++ -O3 -march=x86-64-v3 -mtune=generic -fno-math-errno -fopenmp -I"$root/native/include" -I"$root/cuda/include" \
  -I"$ob/include" "$root/benchmarks/native/conv_algos.cpp" "$root"/native/src/*.cpp \
  "$ob/libopenblas.so.0" -Wl,-rpath,"$ob" -Wl,-rpath-link,"$ob" -o "$out/conv_algos"
exec "$out/conv_algos" "$@"
