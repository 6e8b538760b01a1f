// The oneDNN engine and per-thread stream the dnnl kernels share. Inline, so
// every translation unit that includes this sees one engine.
// NOTE: gemm, conv2d, pool2d and batch_norm still define their own copies
// (each file had its own before this header); new kernels include this one.
#pragma once

#include <dnnl.hpp>

#include <memory>

namespace fathom {

inline dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Streams are not thread-safe to share; each calling thread gets its own.
inline dnnl::stream& thread_stream() {
    thread_local std::unique_ptr<dnnl::stream> stream;
    if (!stream) stream = std::make_unique<dnnl::stream>(cpu_engine());
    return *stream;
}

}  // namespace fathom
