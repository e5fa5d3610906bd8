package quality

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestYUVReaderReadsFramesAndEOF(t *testing.T) {
	for _, depth := range []int{8, 10} {
		size := FrameSize(18, 18, depth)
		buf := make([]byte, 2*size)
		for i := range buf {
			buf[i] = byte(i % 3)
		}
		r, err := NewYUVReader(bytes.NewReader(buf), 18, 18, depth)
		require.NoError(t, err)
		for i := 0; i < 2; i++ {
			f, err := r.Next(context.Background())
			require.NoError(t, err)
			require.Len(t, f.Y, 18*18)
			require.Len(t, f.U, 9*9)
			require.Len(t, f.V, 9*9)
		}
		_, err = r.Next(context.Background())
		require.ErrorIs(t, err, io.EOF)
	}
}

func TestYUVReaderTenBitLittleEndian(t *testing.T) {
	size := FrameSize(18, 18, 10)
	buf := make([]byte, size)
	buf[0], buf[1] = 0xff, 0x03 // 1023
	buf[2], buf[3] = 0x02, 0x01 // 258
	r, err := NewYUVReader(bytes.NewReader(buf), 18, 18, 10)
	require.NoError(t, err)
	f, err := r.Next(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint16(1023), f.Y[0])
	assert.Equal(t, uint16(258), f.Y[1])
}

func TestYUVReaderErrors(t *testing.T) {
	_, err := NewYUVReader(bytes.NewReader(nil), 15, 16, 8)
	require.ErrorIs(t, err, ErrFormat, "odd width")
	_, err = NewYUVReader(bytes.NewReader(nil), 18, 18, 12)
	require.ErrorIs(t, err, ErrFormat, "12-bit")
	_, err = NewYUVReader(bytes.NewReader(nil), 0, 16, 8)
	require.ErrorIs(t, err, ErrFormat, "zero width")

	r, err := NewYUVReader(bytes.NewReader(make([]byte, FrameSize(18, 18, 8)+7)), 18, 18, 8)
	require.NoError(t, err)
	_, err = r.Next(context.Background())
	require.NoError(t, err)
	_, err = r.Next(context.Background())
	require.ErrorIs(t, err, ErrTruncated)

	bad := make([]byte, FrameSize(18, 18, 10))
	bad[1] = 0x04 // 1024 does not fit 10 bits
	r, err = NewYUVReader(bytes.NewReader(bad), 18, 18, 10)
	require.NoError(t, err)
	_, err = r.Next(context.Background())
	require.ErrorIs(t, err, ErrFormat)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func TestCompareRejectsMismatchedInputs(t *testing.T) {
	ref, dis := synthFrames(3, 32, 32, 8)
	_, err := Compare(context.Background(), &sliceReader{frames: ref}, &sliceReader{frames: dis[:2]}, Options{})
	require.ErrorIs(t, err, ErrMismatch)

	ten, _ := synthFrames(1, 32, 32, 10)
	_, err = Compare(context.Background(), &sliceReader{frames: ref[:1]}, &sliceReader{frames: ten}, Options{})
	require.ErrorIs(t, err, ErrMismatch)

	_, err = Compare(context.Background(), &sliceReader{}, &sliceReader{}, Options{})
	require.ErrorIs(t, err, ErrMismatch)

	_, err = Compare(context.Background(), &sliceReader{frames: ref}, &sliceReader{frames: dis}, Options{Model: "vmaf_4k_v0.6.1"})
	require.ErrorIs(t, err, ErrUnknownModel)
}

func TestCompareHonoursCancellation(t *testing.T) {
	ref, dis := synthFrames(2, 32, 32, 8)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Compare(ctx, &sliceReader{frames: ref}, &sliceReader{frames: dis}, Options{})
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

// Identical inputs: PSNR takes libvmaf's cap (60 dB at 8 bits, 72 dB at 10), SSIM is 1, the
// VIF ratios are 1, ADM2 is about 1 and the AIM is 0.
func TestIdenticalInputs(t *testing.T) {
	for _, depth := range []int{8, 10} {
		ref, _ := synthFrames(3, 64, 48, depth)
		res, err := Compare(context.Background(), &sliceReader{frames: ref}, &sliceReader{frames: ref},
			Options{PSNR: true, SSIM: true, Workers: 2})
		require.NoError(t, err)
		for _, name := range []string{MetricPSNRY, MetricPSNRCb, MetricPSNRCr} {
			for _, v := range res.Metric(name) {
				assert.Equal(t, float64(6*depth+12), v, name)
			}
		}
		for _, v := range res.Metric(MetricSSIM) {
			assert.InDelta(t, 1.0, v, 1e-6)
		}
		for _, v := range res.Metric(MetricVIFScale0) {
			assert.Equal(t, 1.0, v)
		}
		for _, v := range res.Metric(MetricAIM) {
			assert.Equal(t, 0.0, v)
		}
		for _, v := range res.Metric(MetricADM2) {
			assert.InDelta(t, 1.0, v, 1e-4)
		}
	}
}

// The pooled summaries follow libvmaf: checked against its pooled_metrics.
func TestPooledMatchesLibvmaf(t *testing.T) {
	res, want := runFixture(t, fixtures[0])
	for _, name := range res.Names {
		p := res.Pooled[name]
		w := want.Pooled[name]
		tol := 1e-4
		if name == MetricVMAF {
			tol = 0.05
		}
		assert.InDelta(t, w["min"], p.Min, tol, name)
		assert.InDelta(t, w["max"], p.Max, tol, name)
		assert.InDelta(t, w["mean"], p.Mean, tol, name)
		assert.InDelta(t, w["harmonic_mean"], p.HarmonicMean, tol, name)
	}
	assert.InDelta(t, want.Pooled[MetricVMAF]["mean"], res.VMAF(), 0.05)
	assert.Nil(t, res.Metric("no_such_metric"))
}

// The JSON writer reproduces libvmaf's layout: same keys, same order, same numbers.
func TestWriteJSONLayout(t *testing.T) {
	res, _ := runFixture(t, fixtures[2])
	var out bytes.Buffer
	require.NoError(t, WriteJSON(&out, res, 21.99))
	want, err := readTestdata("libvmaf_576x324_10bit.json")
	require.NoError(t, err)
	gotLines := bytes.Split(out.Bytes(), []byte("\n"))
	wantLines := bytes.Split(want, []byte("\n"))
	require.Equal(t, len(wantLines), len(gotLines))
	for i := range wantLines {
		// numbers may differ in the last printed digit; keys and structure may not
		g, w := gotLines[i], wantLines[i]
		gk, _, _ := bytes.Cut(g, []byte(": "))
		wk, _, _ := bytes.Cut(w, []byte(": "))
		require.Equal(t, string(wk), string(gk), "line %d", i+1)
	}
	var xml bytes.Buffer
	require.NoError(t, WriteXML(&xml, res, 21.99))
	assert.Contains(t, xml.String(), `<metric name="vmaf" min="81.19`)
	assert.Contains(t, xml.String(), `qualityWidth="576" qualityHeight="324"`)
}
