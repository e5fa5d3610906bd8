package harness

import (
	"context"
	"fmt"
	"image"
	"io"
	"sort"
	"time"

	"github.com/shadowless-dev/shadowless/benchmarks/quality"
)

// sliceReader serves frames from memory to quality.Compare.
type sliceReader struct {
	frames []*quality.Frame
	i      int
}

func (s *sliceReader) Next(ctx context.Context) (*quality.Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.i >= len(s.frames) {
		return nil, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

func toQuality(img *image.YCbCr) (*quality.Frame, error) {
	w, h := img.Rect.Dx()&^1, img.Rect.Dy()&^1
	f, err := quality.NewFrame(w, h, 8)
	if err != nil {
		return nil, err
	}
	for y := 0; y < h; y++ {
		row := img.Y[img.YOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x := 0; x < w; x++ {
			f.Y[y*w+x] = uint16(row[x])
		}
	}
	cw := w / 2
	for y := 0; y < h/2; y++ {
		o := img.COffset(img.Rect.Min.X, img.Rect.Min.Y+2*y)
		for x := 0; x < cw; x++ {
			f.U[y*cw+x] = uint16(img.Cb[o+x])
			f.V[y*cw+x] = uint16(img.Cr[o+x])
		}
	}
	return f, nil
}

// scoreQuality scores the sampled windows: for each window of three consecutive captured
// frames whose middle frame reached the client, VMAF (whose motion feature needs the
// neighbours), PSNR and SSIM of the middle frame against the decoded one.
func (r *run) scoreQuality(ctx context.Context, res *Result, start time.Time) error {
	r.rec.mu.Lock()
	refs := r.rec.refs
	every := r.rec.every
	all := append([]*captureRecord(nil), r.rec.records...)
	r.rec.mu.Unlock()
	recs := map[uint64]*captureRecord{}
	for _, rc := range all {
		if refs[rc.seq] != nil {
			recs[rc.seq] = rc
		}
	}
	frames := r.snapshotFrames()
	pairs := pair(all, frames, start.Add(-time.Hour))
	decodedFor := map[uint64]*clientFrame{}
	for f, rc := range pairs {
		if f.img != nil {
			decodedFor[rc.seq] = f
		}
	}
	var starts []uint64
	for seq := range refs {
		if seq%uint64(every) == 0 && refs[seq+1] != nil && refs[seq+2] != nil {
			starts = append(starts, seq)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	windows, missing := 0, 0
	var vm, ps, ss []float64
	for _, s := range starts {
		mid := decodedFor[s+1]
		if mid == nil || !mid.stamped || mid.stamp != recs[s+1].stamp {
			missing++
			continue
		}
		var rf, df []*quality.Frame
		for k := uint64(0); k < 3; k++ {
			q, err := toQuality(refs[s+k])
			if err != nil {
				return fmt.Errorf("harness: quality: %w", err)
			}
			rf = append(rf, q)
			d := q // the neighbours' distorted pictures do not affect the middle frame's scores
			if k == 1 {
				if d, err = toQuality(mid.img); err != nil {
					return fmt.Errorf("harness: quality: %w", err)
				}
			}
			df = append(df, d)
		}
		if rf[1].Width != df[1].Width || rf[1].Height != df[1].Height {
			missing++
			continue
		}
		qr, err := quality.Compare(ctx, &sliceReader{frames: rf}, &sliceReader{frames: df}, quality.Options{PSNR: true, SSIM: true})
		if err != nil {
			return fmt.Errorf("harness: quality: %w", err)
		}
		v, p, si := qr.Metric(quality.MetricVMAF)[1], qr.Metric(quality.MetricPSNRY)[1], qr.Metric(quality.MetricSSIM)[1]
		vm, ps, ss = append(vm, v), append(ps, p), append(ss, si)
		res.Series.Quality = append(res.Series.Quality, QualityPoint{T: recs[s+1].captured.Sub(start).Seconds(), VMAF: v, PSNRY: p, SSIM: si})
		windows++
	}
	res.VMAF, res.PSNRY, res.SSIM = score(vm), score(ps), score(ss)
	res.QualityNote = fmt.Sprintf("VMAF v0.6.1, PSNR-Y and SSIM of %d frames: the middle frame of a window of 3 consecutive captured frames every %d captured frames (reference = the captured I420 frame, distorted = the client's decoded frame with the same capture time); %d sampled frames never reached the client", windows, every, missing)
	return nil
}

func score(xs []float64) Score {
	if len(xs) == 0 {
		return Score{}
	}
	s := summarize(xs)
	return Score{Mean: s.Mean, Min: s.Min, Max: s.Max, Frames: s.N}
}
