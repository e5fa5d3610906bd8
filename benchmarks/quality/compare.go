package quality

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Metric names, spelled as libvmaf's vmaf tool prints them.
const (
	MetricADM2      = "integer_adm2"
	MetricAIM       = "integer_aim"
	MetricADM3      = "integer_adm3"
	MetricADMScale0 = "integer_adm_scale0"
	MetricADMScale1 = "integer_adm_scale1"
	MetricADMScale2 = "integer_adm_scale2"
	MetricADMScale3 = "integer_adm_scale3"
	MetricMotionSAD = "VMAF_integer_feature_motion_sad_score"
	MetricVIFScale0 = "integer_vif_scale0"
	MetricVIFScale1 = "integer_vif_scale1"
	MetricVIFScale2 = "integer_vif_scale2"
	MetricVIFScale3 = "integer_vif_scale3"
	MetricPSNRY     = "psnr_y"
	MetricPSNRCb    = "psnr_cb"
	MetricPSNRCr    = "psnr_cr"
	MetricSSIM      = "float_ssim"
	MetricMotion2   = "integer_motion2"
	MetricMotion3   = "integer_motion3"
	MetricVMAF      = "vmaf"
)

// ErrUnknownModel reports a model name that is not built in.
var ErrUnknownModel = errors.New("quality: unknown model")

// Options select what Compare computes.
type Options struct {
	// Model names the VMAF model; empty means DefaultModelName.
	Model string
	// EnableTransform applies the model's score transform (libvmaf's model option
	// enable_transform, the "phone" score); off by default as in libvmaf.
	EnableTransform bool
	// PSNR adds psnr_y, psnr_cb and psnr_cr (libvmaf's --feature psnr).
	PSNR bool
	// SSIM adds float_ssim (libvmaf's --feature float_ssim).
	SSIM bool
	// Workers is the number of frames scored in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called from Compare's goroutine after each frame is read.
	Progress func(framesRead int)

	// pureGo keeps every feature to its portable Go code, skipping the assembly kernels
	// (the baseline the speed benchmarks compare them with).
	pureGo bool
}

// FrameScores holds the metrics of one frame, aligned with Result.Names.
type FrameScores struct {
	Index  int
	Values []float64
}

// Pooled summarises one metric over all frames, as libvmaf's pooled_metrics.
type Pooled struct {
	Min, Max, Mean, HarmonicMean float64
}

// Result is the outcome of Compare.
type Result struct {
	Model  string
	Width  int
	Height int
	// Names lists the metrics in libvmaf's output order.
	Names  []string
	Frames []FrameScores
	// Pooled holds the per-metric summaries, keyed by name.
	Pooled map[string]Pooled
}

// Metric returns the per-frame values of one metric, or nil if it was not computed.
func (r *Result) Metric(name string) []float64 {
	k := -1
	for i, n := range r.Names {
		if n == name {
			k = i
		}
	}
	if k < 0 {
		return nil
	}
	out := make([]float64, len(r.Frames))
	for i, f := range r.Frames {
		out[i] = f.Values[k]
	}
	return out
}

// VMAF returns the mean VMAF score, as libvmaf prints at the end of a run.
func (r *Result) VMAF() float64 { return r.Pooled[MetricVMAF].Mean }

// metricNames returns the output order of libvmaf's vmaf tool for these options.
func metricNames(o Options) []string {
	names := []string{MetricADM2, MetricAIM, MetricADM3, MetricADMScale0, MetricADMScale1,
		MetricADMScale2, MetricADMScale3, MetricMotionSAD, MetricVIFScale0, MetricVIFScale1,
		MetricVIFScale2, MetricVIFScale3}
	if o.PSNR {
		names = append(names, MetricPSNRY, MetricPSNRCb, MetricPSNRCr)
	}
	if o.SSIM {
		names = append(names, MetricSSIM)
	}
	return append(names, MetricMotion2, MetricMotion3, MetricVMAF)
}

// frameFeatures are the per-frame values computed independently of other frames.
type frameFeatures struct {
	adm           admScores
	vif           [4]float64
	sad           float64
	psnr          [3]float64
	ssim          float64
	index         int
	width, height int
}

// worker owns the scratch buffers of one goroutine.
type worker struct {
	vif  vifState
	adm  admState
	ssim ssimState
	row  []int32
	// pureGo skips the assembly kernels (see Options.pureGo)
	pureGo bool
}

// setPureGo makes the worker skip the assembly kernels.
func (w *worker) setPureGo(pure bool) {
	w.vif.pureGo = pure
	w.adm.pureGo = pure
	w.pureGo = pure
}

// score computes the features of one frame. With split, VIF (the largest feature) runs on
// its own goroutine beside the others, so the frame takes about as long as VIF alone.
func (w *worker) score(o Options, prev, ref, dis *Frame, split bool) frameFeatures {
	var f frameFeatures
	wd, ht, bpc := ref.Width, ref.Height, ref.BitDepth
	f.width, f.height = wd, ht
	vifDone := make(chan struct{})
	vif := func() {
		defer close(vifDone)
		f.vif = w.vif.vifScores(ref.Y, dis.Y, wd, ht, bpc) // shares no buffers with the rest
	}
	if split {
		go vif()
	} else {
		vif()
	}
	f.adm = w.adm.scores(ref.Y, dis.Y, wd, ht, bpc)
	if prev != nil {
		if cap(w.row) < wd {
			w.row = make([]int32, wd)
		}
		k := motionFastKernels
		if w.pureGo {
			k = motionGoKernels
		}
		f.sad = motionSADWith(prev.Y, ref.Y, wd, ht, bpc, w.row[:wd], k)
	}
	if o.PSNR {
		f.psnr = [3]float64{psnrPlane(ref.Y, dis.Y, bpc), psnrPlane(ref.U, dis.U, bpc), psnrPlane(ref.V, dis.V, bpc)}
	}
	if o.SSIM {
		f.ssim = w.ssim.ssim(ref.Y, dis.Y, wd, ht, bpc)
	}
	<-vifDone
	return f
}

type job struct {
	index          int
	prev, ref, dis *Frame
}

// Compare scores the distorted stream against the reference, frame by frame, with libvmaf's
// integer VMAF features, the chosen model and optionally PSNR and SSIM. Frames are scored
// in parallel; both readers are consumed to the end. The streams must have the same frame
// size, bit depth and length.
func Compare(ctx context.Context, ref, dis FrameReader, o Options) (*Result, error) {
	if o.Model == "" {
		o.Model = DefaultModelName
	}
	model, err := LoadModel(o.Model)
	if err != nil {
		return nil, err
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan job, workers)
	results := make(chan frameFeatures, workers)
	// A frame is split over two goroutines only while fewer frames are in progress than
	// there are cores (a short clip, the end of a stream): otherwise parallel frames keep
	// the cores busy already, and splitting would only add contention.
	cores := runtime.GOMAXPROCS(0)
	var busy atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w worker
			w.setPureGo(o.pureGo)
			for j := range jobs {
				split := int(busy.Add(1)) < cores
				f := w.score(o, j.prev, j.ref, j.dis, split)
				busy.Add(-1)
				f.index = j.index
				select {
				case results <- f:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var feats []frameFeatures
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for f := range results {
			for len(feats) <= f.index {
				feats = append(feats, frameFeatures{})
			}
			feats[f.index] = f
		}
	}()

	readErr := feed(ctx, ref, dis, o, jobs)
	close(jobs)
	wg.Wait()
	close(results)
	<-collected
	if readErr != nil {
		return nil, readErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(feats) == 0 {
		return nil, fmt.Errorf("%w: no frames", ErrMismatch)
	}
	return assemble(model, o, feats), nil
}

// feed reads frame pairs and hands them to the workers.
func feed(ctx context.Context, ref, dis FrameReader, o Options, jobs chan<- job) error {
	var prev *Frame
	for i := 0; ; i++ {
		r, rerr := ref.Next(ctx)
		d, derr := dis.Next(ctx)
		if rerr == io.EOF && derr == io.EOF {
			return nil
		}
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("reference: %w", rerr)
		}
		if derr != nil && derr != io.EOF {
			return fmt.Errorf("distorted: %w", derr)
		}
		if rerr == io.EOF || derr == io.EOF {
			return fmt.Errorf("%w: one input ends at frame %d, the other goes on", ErrMismatch, i)
		}
		if r.Width != d.Width || r.Height != d.Height || r.BitDepth != d.BitDepth {
			return fmt.Errorf("%w: frame %d is %dx%d/%d-bit vs %dx%d/%d-bit", ErrMismatch, i,
				r.Width, r.Height, r.BitDepth, d.Width, d.Height, d.BitDepth)
		}
		if prev != nil && (prev.Width != r.Width || prev.Height != r.Height || prev.BitDepth != r.BitDepth) {
			return fmt.Errorf("%w: frame %d changes size", ErrMismatch, i)
		}
		if err := checkFormat(r.Width, r.Height, r.BitDepth); err != nil {
			return err
		}
		select {
		case jobs <- job{index: i, prev: prev, ref: r, dis: d}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if o.Progress != nil {
			o.Progress(i + 1)
		}
		prev = r
	}
}

func assemble(model *Model, o Options, feats []frameFeatures) *Result {
	n := len(feats)
	sad := make([]float64, n)
	for i, f := range feats {
		sad[i] = f.sad
	}
	m2, m3 := motion2and3(sad)
	names := metricNames(o)
	res := &Result{Model: o.Model, Width: feats[0].width, Height: feats[0].height, Names: names,
		Frames: make([]FrameScores, n), Pooled: map[string]Pooled{}}
	for i, f := range feats {
		vals := make([]float64, 0, len(names))
		a := f.adm
		vals = append(vals, a.adm2, a.aim, a.adm3, a.scale[0], a.scale[1], a.scale[2], a.scale[3],
			f.sad, f.vif[0], f.vif[1], f.vif[2], f.vif[3])
		if o.PSNR {
			vals = append(vals, f.psnr[0], f.psnr[1], f.psnr[2])
		}
		if o.SSIM {
			vals = append(vals, f.ssim)
		}
		score := model.Predict([]float64{a.adm2, m2[i], f.vif[0], f.vif[1], f.vif[2], f.vif[3]}, o.EnableTransform)
		vals = append(vals, m2[i], m3[i], score)
		res.Frames[i] = FrameScores{Index: i, Values: vals}
	}
	for k, name := range names {
		res.Pooled[name] = pool(res.Frames, k)
	}
	return res
}

// pool computes libvmaf's pooled statistics; the harmonic mean is libvmaf's
// n / sum(1/(x+1)) - 1, defined for scores at zero.
func pool(frames []FrameScores, k int) Pooled {
	p := Pooled{Min: math.Inf(1), Max: math.Inf(-1)}
	var sum, inv float64
	for _, f := range frames {
		v := f.Values[k]
		p.Min = math.Min(p.Min, v)
		p.Max = math.Max(p.Max, v)
		sum += v
		inv += 1 / (v + 1)
	}
	n := float64(len(frames))
	p.Mean = sum / n
	p.HarmonicMean = n/inv - 1
	return p
}
