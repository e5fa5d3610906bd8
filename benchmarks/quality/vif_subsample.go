package quality

// The decimation between VIF scales (subsample) through row kernels made for SIMD
// (vif_amd64.s), for the filters of scales 1 and 2 (the centre tap of scale 3 does not fit
// int16). The vertical pass writes each filtered row, rounded, as uint16 XOR 0x8000 into a
// padded row with the mirrored border; the horizontal pass then filters the even columns
// with signed 16-bit multiply-adds, which pair neighbours exactly as the decimation needs.
// As in vif_planes.go, the bias adds exactly -2^31 to every sum (the taps sum to 2^16).

// vifSubVertGo computes columns [from, to) of the vertical pass of the subsampling filter
// of scale into the biased rows outRef and outDis (unpadded indexing).
func vifSubVertGo(rows *vifRows, scale, bpc int, outRef, outDis []uint16, from, to int) {
	shift, round := vifSubShift(scale, bpc)
	for j := from; j < to; j++ {
		var r, d uint32
		for p, f := range vifPairTapsByScale[scale] {
			rw := &rows[p]
			r += f * (uint32(rw[0][j]) + uint32(rw[1][j]))
			d += f * (uint32(rw[2][j]) + uint32(rw[3][j]))
		}
		outRef[j] = uint16((r+round)>>shift) ^ vifPlaneBias
		outDis[j] = uint16((d+round)>>shift) ^ vifPlaneBias
	}
}

// vifSubShift returns the rounding shift of the vertical pass of the subsampling filter.
func vifSubShift(scale, bpc int) (uint, uint32) {
	if scale == 1 {
		return uint(bpc), 1 << (bpc - 1)
	}
	return 16, 1 << 15
}

// vifSubHorzGo computes outputs [from, to) of the horizontal pass: out[j] filters the
// padded biased row in around column 2j.
func vifSubHorzGo(in []uint16, scale int, out []uint16, from, to int) {
	filt := vifFilters[scale]
	half := len(filt) / 2
	for j := from; j < to; j++ {
		var a uint32
		for k, f := range filt {
			a += f * uint32(in[vifPlanePad+2*j-half+k]^vifPlaneBias)
		}
		out[j] = uint16((a + 32768) >> 16)
	}
}

// vifSubKernels are the two passes of subsampleRows for one row.
type vifSubKernels struct {
	vert func(rows *vifRows, scale, bpc int, outRef, outDis []uint16, w int)
	horz func(in []uint16, scale int, out []uint16, n int)
}

// vifSubGoKernels are the Go reference kernels.
var vifSubGoKernels = vifSubKernels{
	vert: func(rows *vifRows, scale, bpc int, outRef, outDis []uint16, w int) {
		vifSubVertGo(rows, scale, bpc, outRef, outDis, 0, w)
	},
	horz: func(in []uint16, scale int, out []uint16, n int) { vifSubHorzGo(in, scale, out, 0, n) },
}

// subsampleRows is subsample through the row kernels, for scales 1 and 2.
func (s *vifState) subsampleRows(ref, dis, nr, nd []uint16, w, h, scale, bpc int, k vifSubKernels) {
	half := len(vifFilters[scale]) / 2
	stride := vifPlaneStride(w)
	if cap(s.subRows) < 2*stride {
		s.subRows = make([]uint16, 2*stride)
	}
	br, bd := s.subRows[:stride], s.subRows[stride:2*stride]
	ow, oh := w/2, h/2
	rows := &s.rows
	for i := 0; i/2 < oh; i += 2 {
		rows.set(ref, dis, i, w, h, half)
		k.vert(rows, scale, bpc, br[vifPlanePad:vifPlanePad+w], bd[vifPlanePad:vifPlanePad+w], w)
		for _, b := range [2][]uint16{br, bd} {
			for f := 1; f <= half; f++ {
				b[vifPlanePad-f] = b[vifPlanePad+f]
				b[vifPlanePad+w-1+f] = b[vifPlanePad+w-1-f]
			}
		}
		o := (i / 2) * ow
		k.horz(br, scale, nr[o:o+ow], ow)
		k.horz(bd, scale, nd[o:o+ow], ow)
	}
	*rows = vifRows{}
}
