//go:build !amd64 || purego

package quality

// motionFastKernels are the Go kernels where there is no assembly.
var motionFastKernels = motionGoKernels
