package quality

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The motion kernels: the fast ones (assembly where the CPU has it, Go for the rest) must
// equal the Go reference kernels on any input.

// motionVertBoth runs both vertical kernels over the rows of two w x 5 planes.
func motionVertBoth(prev, cur []uint16, w, bpc int) (gotRow, wantRow []int32, gotAny, wantAny int32) {
	var p, c [5][]uint16
	for t := range p {
		p[t], c[t] = prev[t*w:(t+1)*w], cur[t*w:(t+1)*w]
	}
	gotRow, wantRow = make([]int32, w), make([]int32, w)
	gotAny = motionFastKernels.vert(&p, &c, gotRow, bpc)
	wantAny = motionGoKernels.vert(&p, &c, wantRow, bpc)
	return
}

func TestMotionKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, bpc := range []int{8, 10} {
		maxv := 1<<bpc - 1
		for _, w := range append([]int{5, 6, 12}, kernelWidths...) {
			for kind := 0; kind < 6; kind++ {
				prev := samplePattern(rng, w, 5, maxv, kind)
				cur := distortPattern(rng, prev, maxv, kind%5)
				gr, wr, ga, wa := motionVertBoth(prev, cur, w, bpc)
				require.Equal(t, wr, gr, "bpc=%d w=%d kind=%d", bpc, w, kind)
				require.Equal(t, wa, ga)
				require.Equal(t, motionGoKernels.horz(wr), motionFastKernels.horz(wr), "bpc=%d w=%d kind=%d", bpc, w, kind)
			}
			// extreme rows: the largest filtered differences of either sign
			for _, v := range []int32{65472, -65472, 65280, -65280} {
				row := make([]int32, w)
				for j := range row {
					row[j] = v
					if j%3 == 1 {
						row[j] = -v
					}
				}
				require.Equal(t, motionGoKernels.horz(row), motionFastKernels.horz(row), "w=%d v=%d", w, v)
			}
		}
	}
	// the whole feature, fast against pure Go
	for _, depth := range []int{8, 10} {
		ref, _ := synthFrames(2, 176, 144, depth)
		row := make([]int32, 176)
		want := motionSADWith(ref[0].Y, ref[1].Y, 176, 144, depth, row, motionGoKernels)
		require.NotZero(t, want)
		require.Equal(t, want, motionSADWith(ref[0].Y, ref[1].Y, 176, 144, depth, row, motionFastKernels))
	}
}

// FuzzMotionKernels feeds arbitrary samples and rows to both kernel sets.
func FuzzMotionKernels(f *testing.F) {
	f.Add([]byte{0, 255, 0, 255}, uint8(0), false)
	f.Add([]byte{255, 3, 0, 0, 0, 9}, uint8(17), true)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(40), true)
	f.Fuzz(func(t *testing.T, data []byte, wextra uint8, tenBit bool) {
		if len(data) == 0 {
			return
		}
		bpc, mask := 8, uint16(0xff)
		if tenBit {
			bpc, mask = 10, 0x3ff
		}
		w := 5 + int(wextra)%80
		prev, cur := make([]uint16, 5*w), make([]uint16, 5*w)
		for k := range prev {
			prev[k] = (uint16(data[k%len(data)]) | uint16(data[(k+1)%len(data)])<<8) & mask
			cur[k] = (uint16(data[(k+2)%len(data)]) | uint16(data[(k+7)%len(data)])<<8) & mask
		}
		gr, wr, ga, wa := motionVertBoth(prev, cur, w, bpc)
		require.Equal(t, wr, gr)
		require.Equal(t, wa, ga)
		require.Equal(t, motionGoKernels.horz(wr), motionFastKernels.horz(wr))
	})
}
