#pragma once
// 2-D pooling kernels over (N, C, H, W), valid padding (windows wholly inside the image; rows and
// columns a window never reaches get no gradient):
//   max      y[n, c, i, j] = max over the window at (i SH, j SW) of x[n, c]
//            dx = dy routed to each window's first largest element (PyTorch's choice on ties;
//            a NaN counts as the largest), summed where windows overlap
//   average  y[n, c, i, j] = mean over the window of x[n, c]     dx = dy / (PH PW) over each window
//   global   y[n, c] = mean over (H, W) of x[n, c]               dx[n, c, :, :] = dy[n, c] / (H W)
// Every output plane is computed by one thread (planes split across threads), so results do not
// depend on the thread count.
#include <cstdint>

namespace bnlab {

struct Pool2DGeometry {
  int64_t planes = 0;  // N C
  int H = 0, W = 0;
  int PH = 1, PW = 1;  // window
  int SH = 1, SW = 1;  // stride
  int HO = 0, WO = 0;  // (H - PH) / SH + 1, (W - PW) / SW + 1
};

// y: (N, C, HO, WO)  x: (N, C, H, W)
void maxpool2d_forward(float* y, const float* x, const Pool2DGeometry& g);
// dx: (N, C, H, W) SET  dy: (N, C, HO, WO)  x: the forward's input (the maxima are found again)
void maxpool2d_backward(float* dx, const float* dy, const float* x, const Pool2DGeometry& g);

void avgpool2d_forward(float* y, const float* x, const Pool2DGeometry& g);
void avgpool2d_backward(float* dx, const float* dy, const Pool2DGeometry& g);

// y: (planes)  x: (planes, HW)
void global_avgpool_forward(float* y, const float* x, int64_t planes, int64_t HW);
// dx: (planes, HW) SET  dy: (planes)
void global_avgpool_backward(float* dx, const float* dy, int64_t planes, int64_t HW);

}  // namespace bnlab
