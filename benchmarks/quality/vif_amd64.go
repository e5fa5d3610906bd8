//go:build amd64 && !purego

package quality

import "golang.org/x/sys/cpu"

// vifHaveAsm reports whether the AVX2 kernels of vif_amd64.s can run on this CPU.
var vifHaveAsm = cpu.X86.HasAVX2

// vifLog2Tab32 is log2Table[32768:] widened to 32 bits, for the gathers of vifHStat8AVX2.
var vifLog2Tab32 = func() *[32768]uint32 {
	var t [32768]uint32
	for i := range t {
		t[i] = uint32(log2Table[32768+i])
	}
	return &t
}()

// vifVert8AVX2 is vifVert8Go over columns [0, n), n a positive multiple of 16. rows holds
// the first sample of each row of a vifRows, planes the first column of the first plane;
// stride is in bytes.
//
//go:noescape
func vifVert8AVX2(rows *[9][4]*uint16, planes *uint16, stride, n int)

// vifHStat8AVX2 is vifHStat8Go over columns [0, n), n a positive multiple of 16. It writes
// per-lane partial sums: out[0:4] denLog, out[4:8] numLog, out[8:12] numNonLog and
// out[12:16] the number of samples that took the logarithmic branch. stride is in bytes.
//
//go:noescape
func vifHStat8AVX2(planes *uint16, stride, n int, tab *uint32, eps float64, out *[16]int64)

// vifVert8 computes the vertical pass of a row of width w: AVX2 for the blocks of 16
// columns, Go for the rest.
func vifVert8(rows *vifRows, planes []uint16, stride, w int) {
	n := w &^ 15
	if vifHaveAsm && n > 0 {
		checkPlanes(planes, stride, w)
		var ptr [9][4]*uint16
		for p := range rows {
			for q := range rows[p] {
				ptr[p][q] = &rows[p][q][:w][0]
			}
		}
		vifVert8AVX2(&ptr, &planes[vifPlanePad], 2*stride, n)
	} else {
		n = 0
	}
	vifVert8Go(rows, planes, stride, n, w)
}

// vifHStat8 runs the horizontal pass and statistic over a row of width w: AVX2 for the
// blocks of 16 columns, Go for the rest.
func vifHStat8(acc *vifAccum, planes []uint16, stride, w int) {
	n := w &^ 15
	if vifHaveAsm && n > 0 {
		checkPlanes(planes, stride, w)
		var out [16]int64
		vifHStat8AVX2(&planes[vifPlanePad], 2*stride, n, &vifLog2Tab32[0], vifEps, &out)
		var logs int64
		for k := 0; k < 4; k++ {
			acc.denLog += out[k]
			acc.numLog += out[4+k]
			acc.numNonLog += out[8+k]
			logs += out[12+k]
		}
		acc.denNonLog += int64(n) - logs
	} else {
		n = 0
	}
	vifHStat8Go(acc, planes, stride, n, w)
}

// checkPlanes guards the assembly kernels' memory accesses.
func checkPlanes(planes []uint16, stride, w int) {
	if stride < w+2*vifPlanePad || len(planes) < vifPlaneCount*stride {
		panic("quality: VIF planes too small")
	}
}
