// A convolution plan owned by a test (created in the constructor, destroyed
// in the destructor), and descriptors that state another layout for a test
// tensor's bytes.
#pragma once

#include <gtest/gtest.h>

#include "fathom/fathom.h"

namespace fathom_test {

class ConvPlan {
public:
    explicit ConvPlan(const fathom_conv2d_params& p, int32_t dtype = FATHOM_F32)
        : status_(fathom_conv2d_plan_create(&p, dtype, &handle_)) {}
    ~ConvPlan() {
        if (handle_ != 0) EXPECT_EQ(FATHOM_OK, fathom_conv2d_plan_destroy(handle_));
    }
    ConvPlan(const ConvPlan&) = delete;
    ConvPlan& operator=(const ConvPlan&) = delete;

    fathom_status status() const { return status_; }
    int64_t handle() const { return handle_; }
    fathom_conv2d_choice info() const {
        fathom_conv2d_choice c{};
        EXPECT_EQ(FATHOM_OK, fathom_conv2d_plan_info(handle_, &c)) << fathom_last_error();
        return c;
    }

private:
    int64_t handle_ = 0;
    fathom_status status_;
};

// A copy of a descriptor whose layout field says `layout` (lives for the
// full expression it appears in, long enough for a call).
struct LaidOut {
    fathom_tensor_desc desc;
    operator const fathom_tensor_desc*() const { return &desc; }
};

inline LaidOut laid_out(const fathom_tensor_desc* d, int32_t layout) {
    LaidOut l{*d};
    l.desc.layout = layout;
    return l;
}

}  // namespace fathom_test
