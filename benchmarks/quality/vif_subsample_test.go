package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The subsample kernels: fast (assembly where the CPU has it) against the Go reference,
// and the row pipeline against subsample's original loops.

// subInputMax is the largest sample entering the subsampling filter of scale: the
// frame's at scale 1, 16-bit scale inputs above.
func subInputMax(scale, bpc int) int {
	if scale == 1 {
		return 1<<bpc - 1
	}
	return 65535
}

func TestVIFSubsampleKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for scale := 1; scale < 4; scale++ {
		for _, bpc := range []int{8, 10} {
			maxv := subInputMax(scale, bpc)
			for _, w := range kernelWidths {
				for kind := 0; kind < 6; kind++ {
					h := 12
					ref := samplePattern(rng, w, h, maxv, kind)
					dis := distortPattern(rng, ref, maxv, kind%5)
					var rows vifRows
					rows.set(ref, dis, 4, w, h, len(vifFilters[scale])/2)
					gr, gd, wr, wd := make([]uint16, w), make([]uint16, w), make([]uint16, w), make([]uint16, w)
					vifSubFastKernels.vert(&rows, scale, bpc, gr, gd, w)
					vifSubGoKernels.vert(&rows, scale, bpc, wr, wd, w)
					require.Equal(t, wr, gr, "ref scale=%d bpc=%d w=%d kind=%d", scale, bpc, w, kind)
					require.Equal(t, wd, gd, "dis scale=%d bpc=%d w=%d kind=%d", scale, bpc, w, kind)
				}
			}
		}
		// horizontal pass on arbitrary padded rows
		for _, w := range kernelWidths {
			for trial := 0; trial < 8; trial++ {
				in := make([]uint16, vifPlaneStride(w))
				for k := range in {
					switch trial % 3 {
					case 0:
						in[k] = uint16(rng.Uint32())
					case 1:
						in[k] = 0x7fff // the bias of 0xffff
					default:
						in[k] = uint16(k&1) * 0x7fff
					}
				}
				got, want := make([]uint16, w/2), make([]uint16, w/2)
				vifSubFastKernels.horz(in, scale, got, w/2)
				vifSubGoKernels.horz(in, scale, want, w/2)
				require.Equal(t, want, got, "horz scale=%d w=%d trial=%d", scale, w, trial)
			}
		}
	}
}

// TestVIFSubsampleRowsMatchOriginal runs the row pipeline with both kernel sets against
// subsample's original loops.
func TestVIFSubsampleRowsMatchOriginal(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for scale := 1; scale < 4; scale++ {
		for _, bpc := range []int{8, 10} {
			maxv := subInputMax(scale, bpc)
			for _, sz := range [][2]int{{16, 16}, {18, 34}, {34, 18}, {64, 36}, {176, 144}} {
				w, h := sz[0], sz[1]
				for kind := 0; kind < 6; kind++ {
					ref := samplePattern(rng, w, h, maxv, kind)
					dis := distortPattern(rng, ref, maxv, kind%5)
					var s vifState
					s.ensure(w, h)
					n := (w / 2) * (h / 2)
					wr, wd := make([]uint16, n), make([]uint16, n)
					s.subsample(ref, dis, wr, wd, w, h, scale, bpc)
					for _, k := range []vifSubKernels{vifSubGoKernels, vifSubFastKernels} {
						gr, gd := make([]uint16, n), make([]uint16, n)
						s.subsampleRows(ref, dis, gr, gd, w, h, scale, bpc, k)
						require.Equal(t, wr, gr, "ref scale=%d bpc=%d %dx%d kind=%d", scale, bpc, w, h, kind)
						require.Equal(t, wd, gd, "dis scale=%d bpc=%d %dx%d kind=%d", scale, bpc, w, h, kind)
					}
				}
			}
		}
	}
}

// FuzzVIFSubsampleKernels compares both kernel sets on fuzzed rows.
func FuzzVIFSubsampleKernels(f *testing.F) {
	f.Add([]byte{0, 255, 0, 255}, uint8(0), uint8(1))
	f.Add([]byte{255, 3, 0, 0, 0, 9}, uint8(17), uint8(2))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(40), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, wextra, scale8 uint8) {
		if len(data) == 0 {
			return
		}
		scale := 1 + int(scale8)%3
		w, h := 16+int(wextra)%64, 9
		ref, dis := make([]uint16, w*h), make([]uint16, w*h)
		for k := range ref {
			ref[k] = uint16(data[k%len(data)]) | uint16(data[(k+1)%len(data)])<<8
			dis[k] = uint16(data[(k+2)%len(data)]) | uint16(data[(k+5)%len(data)])<<8
			if scale == 1 {
				ref[k], dis[k] = ref[k]&0x3ff, dis[k]&0x3ff
			}
		}
		var rows vifRows
		rows.set(ref, dis, 4, w, h, len(vifFilters[scale])/2)
		gr, gd, wr, wd := make([]uint16, w), make([]uint16, w), make([]uint16, w), make([]uint16, w)
		vifSubFastKernels.vert(&rows, scale, 10, gr, gd, w)
		vifSubGoKernels.vert(&rows, scale, 10, wr, wd, w)
		require.Equal(t, wr, gr)
		require.Equal(t, wd, gd)
		in := make([]uint16, vifPlaneStride(w))
		for k := range in {
			in[k] = uint16(data[(3*k)%len(data)]) | uint16(data[(k+7)%len(data)])<<8
		}
		got, want := make([]uint16, w/2), make([]uint16, w/2)
		vifSubFastKernels.horz(in, scale, got, w/2)
		vifSubGoKernels.horz(in, scale, want, w/2)
		require.Equal(t, want, got)
	})
}
