package harness

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WritePlots writes PNG plots of results into dir: latency-cdf.png (click-to-photon CDF),
// bitrate.png (kbit/s per second), vmaf.png (VMAF of the sampled frames over time),
// breakdown.png (where the latency goes) and fps.png, one line or bar per scenario.
// It returns the files written.
func WritePlots(dir string, results []*Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: plot dir: %w", err)
	}
	var files []string
	save := func(p *plot.Plot, name string, w, h vg.Length) error {
		f := filepath.Join(dir, name)
		if err := p.Save(w, h, f); err != nil {
			return fmt.Errorf("harness: save %s: %w", f, err)
		}
		files = append(files, f)
		return nil
	}
	title := func(what string) string {
		if len(results) == 1 {
			return what + " — " + results[0].Scenario
		}
		return what
	}
	target := func(p *plot.Plot, y float64, label string) {
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: y}, {X: p.X.Max, Y: y}})
		if err != nil {
			return
		}
		l.Color = color.RGBA{200, 0, 0, 255}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(label, l)
	}
	styled := func(l *plotter.Line, i int) {
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
	}
	// perSecond draws one line per scenario of a value kept in 1-second bins.
	perSecond := func(p *plot.Plot, get func(SecondBin) float64, legend func(*Result) string) error {
		p.X.Label.Text = "time (s)"
		p.Add(plotter.NewGrid())
		for i, r := range results {
			xys := make(plotter.XYs, 0, len(r.Series.Seconds))
			for _, b := range r.Series.Seconds {
				xys = append(xys, plotter.XY{X: b.T + 0.5, Y: get(b)})
			}
			if len(xys) == 0 {
				continue
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return err
			}
			styled(l, i)
			p.Add(l)
			p.Legend.Add(legend(r), l)
		}
		return nil
	}

	// Latency CDF.
	p := plot.New()
	p.Title.Text = title("Click-to-photon latency (CDF)")
	p.X.Label.Text = "latency (ms)"
	p.Y.Label.Text = "fraction of inputs answered within"
	p.Add(plotter.NewGrid())
	for i, r := range results {
		lat := append([]float64(nil), r.Series.Latencies...)
		if len(lat) == 0 {
			continue
		}
		sort.Float64s(lat)
		xys := make(plotter.XYs, 0, 2*len(lat))
		for k, v := range lat {
			xys = append(xys, plotter.XY{X: v, Y: float64(k) / float64(len(lat))}, plotter.XY{X: v, Y: float64(k+1) / float64(len(lat))})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return files, err
		}
		styled(l, i)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (p50 %.0f ms)", r.Scenario, r.LatencyMS.P50), l)
	}
	p.X.Min = 0
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Left, p.Legend.Top = false, false
	if err := save(p, "latency-cdf.png", 8*vg.Inch, 5*vg.Inch); err != nil {
		return files, err
	}

	// Bitrate over time.
	p = plot.New()
	p.Title.Text = title("Video bitrate received")
	p.Y.Label.Text = "kbit/s (1 s bins)"
	err := perSecond(p, func(b SecondBin) float64 { return b.Kbps },
		func(r *Result) string { return fmt.Sprintf("%s (avg %.0f)", r.Scenario, r.Bitrate.Avg) })
	if err != nil {
		return files, err
	}
	p.Y.Min = 0
	p.Y.Max = headroom(results, func(b SecondBin) float64 { return b.Kbps }, TargetBandwidthKbps)
	target(p, TargetBandwidthKbps, "target 2 Mbit/s")
	p.Legend.Top = true
	if err := save(p, "bitrate.png", 8*vg.Inch, 5*vg.Inch); err != nil {
		return files, err
	}

	// VMAF over time.
	p = plot.New()
	p.Title.Text = title("VMAF of sampled frames")
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "VMAF (v0.6.1)"
	p.Add(plotter.NewGrid())
	for i, r := range results {
		xys := make(plotter.XYs, 0, len(r.Series.Quality))
		for _, q := range r.Series.Quality {
			xys = append(xys, plotter.XY{X: q.T, Y: q.VMAF})
		}
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return files, err
		}
		styled(l, i)
		s.Color = plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(fmt.Sprintf("%s (mean %.1f)", r.Scenario, r.VMAF.Mean), l, s)
	}
	p.Y.Max = 100
	target(p, TargetVMAF, "target 95")
	p.Legend.Left, p.Legend.Top = true, false
	if err := save(p, "vmaf.png", 8*vg.Inch, 5*vg.Inch); err != nil {
		return files, err
	}

	// Latency breakdown: stacked bars per scenario.
	p = plot.New()
	p.Title.Text = title("Where click-to-photon latency goes (mean)")
	p.Y.Label.Text = "ms"
	stages := []struct {
		name string
		get  func(*Result) float64
	}{
		{"uplink", func(r *Result) float64 { return r.Breakdown.Uplink.Mean }},
		{"app", func(r *Result) float64 { return r.Breakdown.App.Mean }},
		{"capture", func(r *Result) float64 { return r.Breakdown.Capture.Mean }},
		{"encode", func(r *Result) float64 { return r.Breakdown.Encode.Mean }},
		{"network", func(r *Result) float64 { return r.Breakdown.Network.Mean }},
		{"decode", func(r *Result) float64 { return r.Breakdown.Decode.Mean }},
	}
	var below *plotter.BarChart
	names := make([]string, len(results))
	for i, r := range results {
		names[i] = r.Scenario
	}
	for k, st := range stages {
		vals := make(plotter.Values, len(results))
		for i, r := range results {
			vals[i] = st.get(r)
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(28))
		if err != nil {
			return files, err
		}
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(st.name, bars)
	}
	p.NominalX(names...)
	top := 1.0
	for _, r := range results {
		top = max(top, r.LatencyMS.Mean)
	}
	p.Y.Min, p.Y.Max = 0, top*1.7
	p.Legend.Top, p.Legend.Left = true, true
	if err := save(p, "breakdown.png", vg.Length(max(5, 1.3*float64(len(results))))*vg.Inch, 5*vg.Inch); err != nil {
		return files, err
	}

	// Frames per second over time.
	p = plot.New()
	p.Title.Text = title("Frames decoded per second")
	p.Y.Label.Text = "fps"
	if err := perSecond(p, func(b SecondBin) float64 { return b.FPS }, func(r *Result) string { return r.Scenario }); err != nil {
		return files, err
	}
	p.Y.Min = 0
	p.Y.Max = headroom(results, func(b SecondBin) float64 { return b.FPS }, TargetFPS)
	target(p, TargetFPS, "target 60")
	p.Legend.Top = true
	if err := save(p, "fps.png", 8*vg.Inch, 5*vg.Inch); err != nil {
		return files, err
	}
	return files, nil
}

// headroom returns a y-axis maximum that leaves the top part of the plot to the legend.
func headroom(results []*Result, get func(SecondBin) float64, target float64) float64 {
	top := target
	for _, r := range results {
		for _, b := range r.Series.Seconds {
			top = max(top, get(b))
		}
	}
	return top * (1.2 + 0.08*float64(len(results)+1))
}
