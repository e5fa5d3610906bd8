package direct

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func vf(seq uint32, key bool) VideoFrame {
	return VideoFrame{Seq: seq, Keyframe: key, CapturedUS: uint64(seq) * 33333, Data: []byte{byte(seq)}}
}

func seqs(fs []VideoFrame) []uint32 {
	out := []uint32{}
	for _, f := range fs {
		out = append(out, f.Seq)
	}
	return out
}

func TestVideoFrameCodec(t *testing.T) {
	f := VideoFrame{Seq: 0xfffffffe, CapturedUS: 1234567890123, Keyframe: true, Data: []byte("bitstream")}
	b := AppendVideoFrame(nil, f)
	require.Len(t, b, videoHeaderLen+len(f.Data))
	g, err := DecodeVideoFrame(b)
	require.NoError(t, err)
	assert.Equal(t, f, g)
	for name, bad := range map[string][]byte{
		"empty":        {},
		"header only":  b[:videoHeaderLen],
		"unknown flag": append([]byte{0x02}, b[1:]...),
	} {
		_, err := DecodeVideoFrame(bad)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
}

func TestVideoReorderInOrder(t *testing.T) {
	r := NewVideoReorder(3)
	for i := range uint32(5) {
		ready, kf := r.Push(vf(10+i, i == 0))
		assert.False(t, kf)
		assert.Equal(t, []uint32{10 + i}, seqs(ready))
	}
	assert.Equal(t, VideoStats{Delivered: 5}, r.Stats())
}

func TestVideoReorderWaitsForFirstKeyframe(t *testing.T) {
	r := NewVideoReorder(3)
	ready, kf := r.Push(vf(1, false))
	assert.Empty(t, ready)
	assert.True(t, kf, "a delta frame first: ask for a keyframe")
	ready, kf = r.Push(vf(2, true))
	assert.False(t, kf)
	assert.Equal(t, []uint32{2}, seqs(ready))
	assert.Equal(t, uint64(1), r.Stats().Skipped)
}

func TestVideoReorderReorders(t *testing.T) {
	r := NewVideoReorder(3)
	r.Push(vf(0, true))
	ready, _ := r.Push(vf(2, false))
	assert.Empty(t, ready, "frame 1 is missing: hold 2")
	ready, _ = r.Push(vf(3, false))
	assert.Empty(t, ready)
	ready, kf := r.Push(vf(1, false))
	assert.False(t, kf)
	assert.Equal(t, []uint32{1, 2, 3}, seqs(ready))
	ready, _ = r.Push(vf(1, false))
	assert.Empty(t, ready)
	assert.Equal(t, VideoStats{Delivered: 4, Late: 1}, r.Stats())
}

func TestVideoReorderLossNeedsKeyframe(t *testing.T) {
	r := NewVideoReorder(2)
	r.Push(vf(0, true))
	r.Push(vf(2, false))
	ready, kf := r.Push(vf(3, false))
	assert.Empty(t, ready)
	assert.False(t, kf)
	ready, kf = r.Push(vf(4, false)) // window of 2 overflows: frame 1 is lost
	assert.Empty(t, ready, "delta frames after a loss are not decodable")
	assert.True(t, kf)
	ready, kf = r.Push(vf(5, false))
	assert.Empty(t, ready)
	assert.False(t, kf, "one request per loss")
	ready, kf = r.Push(vf(6, true))
	assert.False(t, kf)
	assert.Equal(t, []uint32{6}, seqs(ready))
	ready, _ = r.Push(vf(1, false))
	assert.Empty(t, ready, "too late")
	ready, _ = r.Push(vf(7, false))
	assert.Equal(t, []uint32{7}, seqs(ready))
	assert.Equal(t, VideoStats{Delivered: 3, Lost: 1, Skipped: 4, Late: 1}, r.Stats())
}

func TestVideoReorderKeyframeEndsGap(t *testing.T) {
	r := NewVideoReorder(4)
	r.Push(vf(0, true))
	r.Push(vf(3, false))
	ready, kf := r.Push(vf(5, true)) // 1, 2, 4 missing; 3 held: the keyframe makes them moot
	assert.False(t, kf)
	assert.Equal(t, []uint32{5}, seqs(ready))
	assert.Equal(t, VideoStats{Delivered: 2, Lost: 3, Skipped: 1}, r.Stats())
}

func TestVideoReorderWraps(t *testing.T) {
	r := NewVideoReorder(2)
	r.Push(vf(0xffffffff, true))
	ready, _ := r.Push(vf(1, false))
	assert.Empty(t, ready)
	ready, _ = r.Push(vf(0, false))
	assert.Equal(t, []uint32{0, 1}, seqs(ready))
}

// FuzzVideoReorder drives a reorderer with frames decoded from the input and checks
// its invariants: delivered frames come in strictly increasing order, at most once,
// the first one and the first after a loss are keyframes, and it never holds more than
// its window.
func FuzzVideoReorder(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0})
	f.Add(AppendVideoFrame(nil, vf(7, true)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if fr, err := DecodeVideoFrame(data); err == nil {
			require.Equal(t, data, AppendVideoFrame(nil, fr), "codec round trip")
		}
		r := NewVideoReorder(3)
		var last uint32
		delivered := false
		for len(data) >= 5 {
			f := VideoFrame{Keyframe: data[0]&1 == 1, Seq: binary.LittleEndian.Uint32(data[1:5]) % 64}
			data = data[5:]
			before := r.Stats()
			ready, _ := r.Push(f)
			for i, g := range ready {
				if !delivered {
					require.True(t, g.Keyframe, "first delivered frame is a keyframe")
				} else {
					require.True(t, seqBefore(last, g.Seq), "order: %d after %d", g.Seq, last)
					if i == 0 && r.Stats().Lost > before.Lost && g.Seq != last+1 {
						require.True(t, g.Keyframe, "first frame after a loss is a keyframe")
					}
				}
				last, delivered = g.Seq, true
			}
			require.LessOrEqual(t, len(r.held), 3)
		}
	})
}
