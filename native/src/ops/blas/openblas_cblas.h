// <cblas.h> from the bytedeco OpenBLAS jar, for every platform it ships.
#pragma once

// The linux-arm64 jar's openblas_config.h declares `typedef _Float16 hfloat16`
// for any GCC >= 12, but g++ has _Float16 in C++ only from GCC 13 on (in C it
// has had it on AArch64 since GCC 7); the typedef then fails to compile. On
// AArch64, __fp16 is the same IEEE binary16 storage type, and Fathom calls no
// half-precision OpenBLAS routine, so the spelling only has to parse.
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define _Float16 __fp16
#include <cblas.h>
#undef _Float16
#else
#include <cblas.h>
#endif
