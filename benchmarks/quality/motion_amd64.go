//go:build amd64 && !purego

package quality

import "golang.org/x/sys/cpu"

// motionHaveAsm reports whether the AVX2 kernels of motion_amd64.s can run on this CPU.
var motionHaveAsm = cpu.X86.HasAVX2

// motionVertAVX2 is motionVertGo over columns [0, n), n a positive multiple of 16.
//
//go:noescape
func motionVertAVX2(prev, cur *[5]*uint16, row *int32, n, bpc int) int32

// motionHorzAVX2 is motionHorzGo over outputs [2, 2+n) of the row starting at row, n a
// positive multiple of 8 with n+4 at most the row's length.
//
//go:noescape
func motionHorzAVX2(row *int32, n int) uint64

// motionFastKernels use the assembly for the full blocks where the CPU has AVX2, Go for
// the rest.
var motionFastKernels = motionKernels{vert: motionVert, horz: motionHorz}

func motionVert(prev, cur *[5][]uint16, row []int32, bpc int) int32 {
	w := len(row)
	m := w &^ 15
	var any int32
	if motionHaveAsm && m > 0 {
		var pp, cp [5]*uint16
		for t := range pp {
			pp[t], cp[t] = &prev[t][:w][0], &cur[t][:w][0]
		}
		any = motionVertAVX2(&pp, &cp, &row[0], m, bpc)
	} else {
		m = 0
	}
	return any | motionVertGo(prev, cur, row, bpc, m, w)
}

func motionHorz(row []int32) uint64 {
	w := len(row)
	n := 0
	if w >= 4 {
		n = (w - 4) &^ 7
	}
	if !motionHaveAsm || n == 0 {
		return motionHorzGo(row, 0, w)
	}
	return motionHorzGo(row, 0, 2) + motionHorzAVX2(&row[0], n) + motionHorzGo(row, 2+n, w)
}
