package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shadowless-dev/shadowless/benchmarks/quality"
)

// vmafFlags mirrors the command line of libvmaf's vmaf tool.
type vmafFlags struct {
	reference, distorted string
	width, height        int
	pixelFormat          string
	bitdepth             int
	models               []string
	features             []string
	output               string
	json, xml            bool
	quiet                bool
	threads              int
	frameCnt             int
	help                 bool
}

// newVMAFCmd returns `shadowless vmaf`, a drop-in for libvmaf's `vmaf` command line.
func newVMAFCmd() *cobra.Command {
	var f vmafFlags
	cmd := &cobra.Command{
		Use:   "vmaf --reference REF.yuv --distorted DIS.yuv --width W --height H --pixel_format 420 --bitdepth 8|10",
		Short: "Score video quality (VMAF, PSNR, SSIM); a drop-in for libvmaf's vmaf tool",
		Long: `Compute VMAF (model vmaf_v0.6.1) of a distorted raw YUV 4:2:0 video against its reference,
frame by frame, with libvmaf's integer features, optionally PSNR and SSIM, and write the
scores in libvmaf's JSON or XML layout. Flags are libvmaf's: -r/--reference,
-d/--distorted, -w/--width, -h/--height (as in libvmaf; help is --help), -p/--pixel_format,
-b/--bitdepth, -m/--model, --feature, -o/--output, --json, --xml, -q/--quiet, --threads.
Without --output the report goes to standard output when --json or --xml is given.`,
		Example: `  shadowless vmaf --reference ref.yuv --distorted dis.yuv --width 1920 --height 1080 \
      --pixel_format 420 --bitdepth 8 --model version=vmaf_v0.6.1 \
      --feature psnr --feature float_ssim --json --output scores.json
  shadowless vmaf -r ref.yuv -d dis.yuv -w 576 -h 324 -p 420 -b 10 -q --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVmaf(cmd.Context(), cmd, f)
		},
	}
	fl := cmd.Flags()
	// Own the help flag so that -h can mean --height, as in libvmaf.
	fl.BoolVar(&f.help, "help", false, "help for vmaf")
	fl.StringVarP(&f.reference, "reference", "r", "", "reference raw YUV file")
	fl.StringVarP(&f.distorted, "distorted", "d", "", "distorted raw YUV file")
	fl.IntVarP(&f.width, "width", "w", 0, "frame width in pixels")
	fl.IntVarP(&f.height, "height", "h", 0, "frame height in pixels")
	fl.StringVarP(&f.pixelFormat, "pixel_format", "p", "420", "pixel format (420 is supported)")
	fl.IntVarP(&f.bitdepth, "bitdepth", "b", 8, "bit depth of the samples (8 or 10)")
	fl.StringArrayVarP(&f.models, "model", "m", nil, "model, as version=vmaf_v0.6.1[:enable_transform=true] (default version=vmaf_v0.6.1)")
	fl.StringArrayVar(&f.features, "feature", nil, "extra feature: psnr or float_ssim (repeatable)")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file (- for standard output)")
	fl.BoolVar(&f.json, "json", false, "report in libvmaf's JSON layout")
	fl.BoolVar(&f.xml, "xml", false, "report in libvmaf's XML layout (the default with --output)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors and the requested report")
	fl.IntVarP(&f.threads, "threads", "t", 0, "frames scored in parallel (0: one per CPU)")
	fl.IntVar(&f.frameCnt, "frame_cnt", 0, "score at most this many frames (0: all)")
	return cmd
}

// parseModel reads libvmaf's --model value.
func parseModel(specs []string) (name string, transform bool, err error) {
	name = quality.DefaultModelName
	if len(specs) > 1 {
		return "", false, fmt.Errorf("only one --model is supported, got %d", len(specs))
	}
	if len(specs) == 0 {
		return name, false, nil
	}
	for _, kv := range strings.Split(specs[0], ":") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return "", false, fmt.Errorf("--model %q: want key=value pairs such as version=%s", specs[0], quality.DefaultModelName)
		}
		switch k {
		case "version":
			name = v
		case "name":
		case "enable_transform":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", false, fmt.Errorf("--model %q: enable_transform: %w", specs[0], err)
			}
			transform = b
		case "path":
			return "", false, fmt.Errorf("--model path=%s: model files are not supported; built in: version=%s", v, quality.DefaultModelName)
		default:
			return "", false, fmt.Errorf("--model %q: unknown key %q", specs[0], k)
		}
	}
	if _, err := quality.LoadModel(name); err != nil {
		return "", false, err
	}
	return name, transform, nil
}

// openInput opens a raw YUV file and checks that it holds a whole number of frames.
func openInput(role, path string, w, h, depth int) (*os.File, int, error) {
	if path == "" {
		return nil, 0, fmt.Errorf("--%s is required", role)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", role, err)
	}
	st, err := file.Stat()
	if err != nil {
		_ = file.Close()
		return nil, 0, fmt.Errorf("%s: %w", role, err)
	}
	fs := int64(quality.FrameSize(w, h, depth))
	if st.Size() == 0 || st.Size()%fs != 0 {
		_ = file.Close()
		return nil, 0, fmt.Errorf("%s %s: %d bytes is not a whole number of %dx%d %d-bit 4:2:0 frames (%d bytes each): %w",
			role, path, st.Size(), w, h, depth, fs, quality.ErrTruncated)
	}
	return file, int(st.Size() / fs), nil
}

// limitReader stops a FrameReader after n frames.
type limitReader struct {
	r quality.FrameReader
	n int
}

func (l *limitReader) Next(ctx context.Context) (*quality.Frame, error) {
	if l.n <= 0 {
		return nil, io.EOF
	}
	l.n--
	return l.r.Next(ctx)
}

func runVmaf(ctx context.Context, cmd *cobra.Command, f vmafFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.pixelFormat != "420" {
		return fmt.Errorf("--pixel_format %s is not supported (420 is)", f.pixelFormat)
	}
	if f.bitdepth != 8 && f.bitdepth != 10 {
		return fmt.Errorf("--bitdepth %d is not supported (8 or 10)", f.bitdepth)
	}
	if f.width <= 0 || f.height <= 0 {
		return errors.New("--width and --height are required and must be positive")
	}
	if f.width%2 != 0 || f.height%2 != 0 {
		return fmt.Errorf("--width %d --height %d: 4:2:0 needs even dimensions", f.width, f.height)
	}
	if f.json && f.xml {
		return errors.New("--json and --xml are exclusive")
	}
	if f.frameCnt < 0 || f.threads < 0 {
		return errors.New("--frame_cnt and --threads must not be negative")
	}
	model, transform, err := parseModel(f.models)
	if err != nil {
		return err
	}
	opts := quality.Options{Model: model, EnableTransform: transform, Workers: f.threads}
	for _, feat := range f.features {
		switch feat {
		case "psnr":
			opts.PSNR = true
		case "float_ssim":
			opts.SSIM = true
		default:
			return fmt.Errorf("--feature %q is not supported (psnr, float_ssim)", feat)
		}
	}
	refFile, refFrames, err := openInput("reference", f.reference, f.width, f.height, f.bitdepth)
	if err != nil {
		return err
	}
	defer refFile.Close()
	disFile, disFrames, err := openInput("distorted", f.distorted, f.width, f.height, f.bitdepth)
	if err != nil {
		return err
	}
	defer disFile.Close()
	if refFrames != disFrames {
		return fmt.Errorf("reference has %d frames, distorted %d: %w", refFrames, disFrames, quality.ErrMismatch)
	}
	ref, err := quality.NewYUVReader(refFile, f.width, f.height, f.bitdepth)
	if err != nil {
		return err
	}
	dis, err := quality.NewYUVReader(disFile, f.width, f.height, f.bitdepth)
	if err != nil {
		return err
	}
	var refR, disR quality.FrameReader = ref, dis
	total := refFrames
	if f.frameCnt > 0 {
		refR, disR = &limitReader{r: ref, n: f.frameCnt}, &limitReader{r: dis, n: f.frameCnt}
		total = min(total, f.frameCnt)
	}
	stderr := cmd.ErrOrStderr()
	if !f.quiet {
		fmt.Fprintf(stderr, "VMAF version %s (shadowless)\n", quality.LibvmafVersion)
		opts.Progress = func(n int) {
			if n%10 == 0 || n == total {
				fmt.Fprintf(stderr, "\r%d/%d frames", n, total)
			}
		}
	}
	start := time.Now()
	res, err := quality.Compare(ctx, refR, disR, opts)
	if err != nil {
		return err
	}
	fps := float64(len(res.Frames)) / time.Since(start).Seconds()
	if !f.quiet {
		fmt.Fprintf(stderr, "\n%s: %f\n", model, res.VMAF())
	}
	if !f.json && !f.xml && f.output == "" {
		return nil
	}
	out := cmd.OutOrStdout()
	if f.output != "" && f.output != "-" {
		file, err := os.Create(f.output)
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		defer file.Close()
		out = file
	}
	if f.json {
		err = quality.WriteJSON(out, res, fps)
	} else {
		err = quality.WriteXML(out, res, fps)
	}
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if file, ok := out.(*os.File); ok && file != os.Stdout {
		return file.Close()
	}
	return nil
}
