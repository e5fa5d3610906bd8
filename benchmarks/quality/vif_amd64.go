//go:build amd64 && !purego

package quality

import "golang.org/x/sys/cpu"

// vifHaveAsm reports whether the AVX2 kernels of vif_amd64.s can run on this CPU.
var vifHaveAsm = cpu.X86.HasAVX2

// vifLog2Tab32 is log2Table[32768:] widened to 32 bits, for the gathers of vifHStatAVX2.
var vifLog2Tab32 = func() *[32768]uint32 {
	var t [32768]uint32
	for i := range t {
		t[i] = uint32(log2Table[32768+i])
	}
	return &t
}()

// vifHTapPairs holds, for scales 0-2, the horizontal taps as vifHStatAVX2 reads them: pair
// m is 8 copies of f[2m] | f[2m+1]<<16 (the taps of scale 3 do not fit in int16).
var vifHTapPairs = func() (t [3][9][8]uint32) {
	for scale := range t {
		f := append(append([]uint32(nil), vifFilters[scale]...), 0)
		for m := 0; 2*m+1 < len(f); m++ {
			for k := range t[scale][m] {
				t[scale][m][k] = f[2*m] | f[2*m+1]<<16
			}
		}
	}
	return t
}()

// vifVert8AVX2 is vifVert8Go over columns [0, n), n a positive multiple of 16. rows holds
// the first sample of each row of a vifRows, planes the first column of the first plane;
// stride is in bytes.
//
//go:noescape
func vifVert8AVX2(rows *[9][4]*uint16, planes *uint16, stride, n int)

// vifVert16AVX2 is vifVert16Go over columns [0, n), n a positive multiple of 8, for scales
// 1 and 2; taps are the scale's vifPairTaps, npairs of them.
//
//go:noescape
func vifVert16AVX2(rows *[9][4]*uint16, taps *uint32, npairs int, planes *uint16, stride, n int)

// vifHStatAVX2 is vifHStatGo over columns [0, n), n a positive multiple of 16, for scales
// 0-2 (taps from vifHTapPairs). It writes per-lane partial sums: out[0:4] denLog,
// out[4:8] numLog, out[8:12] numNonLog and out[12:16] the number of samples that took the
// logarithmic branch. stride is in bytes.
//
//go:noescape
func vifHStatAVX2(planes *uint16, stride, n int, taps *uint32, npairs int, tab *uint32, eps float64, out *[16]int64)

// vifFastKernels use the assembly for the blocks of 16 columns where the CPU has AVX2, Go
// for the rest.
var vifFastKernels = vifKernels{vert: vifVert, hstat: vifHStat}

func vifVert(rows *vifRows, scale int, planes []uint16, stride, w int) {
	n := w &^ 15
	if !vifHaveAsm || scale > 2 || n == 0 {
		vifGoKernels.vert(rows, scale, planes, stride, w)
		return
	}
	checkPlanes(planes, stride, w)
	npairs := len(vifFilters[scale])/2 + 1
	var ptr [9][4]*uint16
	for p := 0; p < npairs; p++ {
		for q := range rows[p] {
			ptr[p][q] = &rows[p][q][:w][0]
		}
	}
	if scale == 0 {
		vifVert8AVX2(&ptr, &planes[vifPlanePad], 2*stride, n)
		vifVert8Go(rows, planes, stride, n, w)
		return
	}
	vifVert16AVX2(&ptr, &vifPairTapsByScale[scale][0], npairs, &planes[vifPlanePad], 2*stride, n)
	vifVert16Go(rows, scale, planes, stride, n, w)
}

func vifHStat(acc *vifAccum, scale int, planes []uint16, stride, w int) {
	n := w &^ 15
	if !vifHaveAsm || scale > 2 || n == 0 {
		vifGoKernels.hstat(acc, scale, planes, stride, w)
		return
	}
	checkPlanes(planes, stride, w)
	var out [16]int64
	npairs := (len(vifFilters[scale]) + 1) / 2
	vifHStatAVX2(&planes[vifPlanePad], 2*stride, n, &vifHTapPairs[scale][0][0], npairs, &vifLog2Tab32[0], vifEps, &out)
	var logs int64
	for k := 0; k < 4; k++ {
		acc.denLog += out[k]
		acc.numLog += out[4+k]
		acc.numNonLog += out[8+k]
		logs += out[12+k]
	}
	acc.denNonLog += int64(n) - logs
	vifHStatGo(acc, scale, planes, stride, n, w)
}

// vifSubVertAVX2 is vifSubVertGo over columns [0, n), n a positive multiple of 8, for
// scales 1 and 2; shift is the rounding shift (vifSubShift).
//
//go:noescape
func vifSubVertAVX2(rows *[9][4]*uint16, taps *uint32, npairs int, outRef, outDis *uint16, n, shift int)

// vifSubHorzAVX2 is vifSubHorzGo over outputs [0, n), n a positive multiple of 8, for
// scales 1 and 2; in points at column 0 of the padded row.
//
//go:noescape
func vifSubHorzAVX2(in, out *uint16, n int, taps *uint32, npairs int)

// vifSubFastKernels use the assembly for the full blocks where the CPU has AVX2, Go for
// the rest.
var vifSubFastKernels = vifSubKernels{vert: vifSubVert, horz: vifSubHorz}

func vifSubVert(rows *vifRows, scale, bpc int, outRef, outDis []uint16, w int) {
	n := w &^ 7
	if !vifHaveAsm || scale < 1 || scale > 2 || n == 0 {
		vifSubGoKernels.vert(rows, scale, bpc, outRef, outDis, w)
		return
	}
	npairs := len(vifFilters[scale])/2 + 1
	var ptr [9][4]*uint16
	for p := 0; p < npairs; p++ {
		for q := range rows[p] {
			ptr[p][q] = &rows[p][q][:w][0]
		}
	}
	shift, _ := vifSubShift(scale, bpc)
	vifSubVertAVX2(&ptr, &vifPairTapsByScale[scale][0], npairs, &outRef[:w][0], &outDis[:w][0], n, int(shift))
	vifSubVertGo(rows, scale, bpc, outRef, outDis, n, w)
}

func vifSubHorz(in []uint16, scale int, out []uint16, n int) {
	m := n &^ 7
	// the last block reads up to column 2m+half-1 of the padded row
	if !vifHaveAsm || scale < 1 || scale > 2 || m == 0 || len(in) < vifPlanePad+2*m+8 {
		vifSubGoKernels.horz(in, scale, out, n)
		return
	}
	npairs := (len(vifFilters[scale]) + 1) / 2
	vifSubHorzAVX2(&in[vifPlanePad], &out[:n][0], m, &vifHTapPairs[scale][0][0], npairs)
	vifSubHorzGo(in, scale, out, m, n)
}

// checkPlanes guards the assembly kernels' memory accesses.
func checkPlanes(planes []uint16, stride, w int) {
	if stride < w+2*vifPlanePad || len(planes) < vifPlaneCount*stride {
		panic("quality: VIF planes too small")
	}
}
