# Cross-compiling for linux-arm64 on an x86-64 Debian host (ci/build-arm64.sh):
# the Debian cross toolchain (g++-aarch64-linux-gnu), arm64 multiarch packages
# (libgtest-dev:arm64) for the test libraries, and qemu user emulation to run
# what is built (gtest discovery at build time, ctest).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Programs found are the host's; libraries, headers and packages the target's
# (the cross sysroot and the arm64 multiarch directories, not x86-64 ones).
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# qemu-aarch64 runs the test binaries; the bytedeco libraries are found
# through the binaries' build RPATH. The loader and libc must come from one
# glibc build: with libc6:arm64 installed (multiarch; libgtest-dev:arm64 and
# the arm64 JDK bring it), the host's ld.so.cache lists /lib/aarch64-linux-gnu,
# so the cross sysroot's loader (-L) would load that libc, of another Debian
# revision, and the binaries hang at start. There qemu runs without -L and the
# multiarch loader is used; otherwise -L points it at the cross sysroot.
find_program(FATHOM_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64 REQUIRED)
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${FATHOM_QEMU_AARCH64}")
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR "${FATHOM_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu")
endif()
