package quality

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// LibvmafVersion is the libvmaf release whose output this package reproduces; it is what
// WriteJSON and WriteXML print as the version.
const LibvmafVersion = "3.2.0"

// num prints a score as libvmaf does (%.6f), or null for NaN and infinities.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return fmt.Sprintf("%.6f", v)
}

// WriteJSON writes r in the layout of libvmaf's `vmaf --json` output: version, fps, frames
// with frameNum and metrics, pooled_metrics with min/max/mean/harmonic_mean per metric, and
// an empty aggregate_metrics. fps is the processing speed to report.
func WriteJSON(w io.Writer, r *Result, fps float64) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "{\n  \"version\": %q,\n", LibvmafVersion)
	if math.IsNaN(fps) || math.IsInf(fps, 0) {
		fmt.Fprintf(b, "  \"fps\": null,\n")
	} else {
		fmt.Fprintf(b, "  \"fps\": %.2f,\n", fps)
	}
	fmt.Fprintf(b, "  \"frames\": [")
	for i, f := range r.Frames {
		if i > 0 {
			b.WriteString(",\n")
		} else {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "    {\n      \"frameNum\": %d,\n      \"metrics\": {\n", f.Index)
		for k, name := range r.Names {
			sep := ","
			if k == len(r.Names)-1 {
				sep = ""
			}
			fmt.Fprintf(b, "        %q: %s%s\n", name, num(f.Values[k]), sep)
		}
		b.WriteString("      }\n    }")
	}
	b.WriteString("\n  ],\n  \"pooled_metrics\": {")
	for k, name := range r.Names {
		if k > 0 {
			b.WriteString(",\n")
		} else {
			b.WriteString("\n")
		}
		p := r.Pooled[name]
		fmt.Fprintf(b, "    %q: {\n      \"min\": %s,\n      \"max\": %s,\n      \"mean\": %s,\n      \"harmonic_mean\": %s\n    }",
			name, num(p.Min), num(p.Max), num(p.Mean), num(p.HarmonicMean))
	}
	b.WriteString("\n  },\n  \"aggregate_metrics\": {\n  }\n}\n")
	return b.Flush()
}

// WriteXML writes r in the layout of libvmaf's default (XML) output.
func WriteXML(w io.Writer, r *Result, fps float64) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "<VMAF version=%q>\n", LibvmafVersion)
	fmt.Fprintf(b, "  <params qualityWidth=\"%d\" qualityHeight=\"%d\" />\n", r.Width, r.Height)
	fmt.Fprintf(b, "  <fyi fps=\"%.2f\" />\n", fps)
	b.WriteString("  <frames>\n")
	for _, f := range r.Frames {
		fmt.Fprintf(b, "    <frame frameNum=\"%d\" ", f.Index)
		for k, name := range r.Names {
			fmt.Fprintf(b, "%s=\"%.6f\" ", name, f.Values[k])
		}
		b.WriteString("/>\n")
	}
	b.WriteString("  </frames>\n  <pooled_metrics>\n")
	for _, name := range r.Names {
		p := r.Pooled[name]
		fmt.Fprintf(b, "    <metric name=%q min=\"%.6f\" max=\"%.6f\" mean=\"%.6f\" harmonic_mean=\"%.6f\" />\n",
			name, p.Min, p.Max, p.Mean, p.HarmonicMean)
	}
	b.WriteString("  </pooled_metrics>\n  <aggregate_metrics />\n</VMAF>\n")
	return b.Flush()
}
