// Plans behind the C ABI's int64 handles (fathom.h "A convolution plan"): a
// process-wide map from handle to shared plan. Handles are ids, not addresses,
// so a forged, stale or double-destroyed handle is refused instead of read,
// and a call holds its own reference while it runs, so a destroy on another
// thread frees the plan when that call returns, never under it.
// One registry per plan type; every op family with a plan uses this one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.h"

namespace fathom {

template <typename Plan>
class PlanRegistry {
public:
    // The handle of a new plan (>= 1).
    int64_t add(std::shared_ptr<Plan> plan) {
        const int64_t id = next_.fetch_add(1, std::memory_order_relaxed);
        plan->id = id;
        std::lock_guard<std::mutex> lock(mutex_);
        plans_.emplace(id, std::move(plan));
        return id;
    }

    // The live plan of a handle, or FATHOM_INVALID_ARGUMENT naming the op.
    std::shared_ptr<const Plan> get(const char* op, int64_t handle) const {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = plans_.find(handle);
            if (it != plans_.end()) return it->second;
        }
        fail(FATHOM_INVALID_ARGUMENT, op, ": plan ", handle,
             " is not a live plan (never created, or already destroyed)");
    }

    void remove(const char* op, int64_t handle) {
        std::shared_ptr<Plan> gone;  // released after the lock
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = plans_.find(handle);
        if (it == plans_.end())
            fail(FATHOM_INVALID_ARGUMENT, op, ": plan ", handle,
                 " is not a live plan (never created, or already destroyed)");
        gone = std::move(it->second);
        plans_.erase(it);
    }

    size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return plans_.size();
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<int64_t, std::shared_ptr<Plan>> plans_;
    std::atomic<int64_t> next_{1};
};

}  // namespace fathom
