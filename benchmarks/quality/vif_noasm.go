//go:build !amd64 || purego

package quality

// vifHaveAsm reports whether assembly kernels exist for this build; here they do not, and
// statistic keeps to its Go code.
const vifHaveAsm = false

// vifVert8 computes the vertical pass of a row of width w.
func vifVert8(rows *vifRows, planes []uint16, stride, w int) {
	vifVert8Go(rows, planes, stride, 0, w)
}

// vifHStat8 runs the horizontal pass and statistic over a row of width w.
func vifHStat8(acc *vifAccum, planes []uint16, stride, w int) {
	vifHStat8Go(acc, planes, stride, 0, w)
}
