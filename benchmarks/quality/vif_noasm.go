//go:build !amd64 || purego

package quality

// vifHaveAsm reports whether assembly kernels exist for this build; here they do not, and
// accumulate keeps to its Go loops.
const vifHaveAsm = false

// vifFastKernels are the Go kernels where there is no assembly.
var vifFastKernels = vifGoKernels

// vifSubFastKernels are the Go kernels where there is no assembly.
var vifSubFastKernels = vifSubGoKernels
