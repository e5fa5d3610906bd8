package direct

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Video frames on the "video" channel (see PROTOCOL.md): one message per encoded frame,
// a 13-byte header in front of the bitstream. The channel is unordered and partially
// reliable, so frames may arrive out of order or not at all; VideoReorder turns what
// arrives into a decodable sequence and says when a keyframe is needed.

// videoHeaderLen is the size of the video frame header.
const videoHeaderLen = 13

const videoFlagKeyframe = 0x01

// VideoFrame is one encoded frame as carried on the video channel.
type VideoFrame struct {
	// Seq numbers frames: +1 for every frame the sender sends (wrapping at 2^32).
	Seq uint32
	// CapturedUS is the capture time in microseconds on the sender's clock (any epoch,
	// e.g. the session start); receivers use differences only.
	CapturedUS uint64
	// Keyframe marks a frame that decodes without earlier frames.
	Keyframe bool
	// Data is the encoded frame (at least one byte). DecodeVideoFrame leaves it
	// pointing into the message.
	Data []byte
}

// AppendVideoFrame appends f's wire form to dst.
func AppendVideoFrame(dst []byte, f VideoFrame) []byte {
	var flags byte
	if f.Keyframe {
		flags |= videoFlagKeyframe
	}
	dst = append(dst, flags)
	dst = binary.LittleEndian.AppendUint32(dst, f.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, f.CapturedUS)
	return append(dst, f.Data...)
}

// DecodeVideoFrame decodes a video channel message. Unknown flag bits and an empty
// bitstream are errors (ErrProtocol).
func DecodeVideoFrame(msg []byte) (VideoFrame, error) {
	if len(msg) <= videoHeaderLen {
		return VideoFrame{}, fmt.Errorf("%w: video frame of %d bytes", ErrProtocol, len(msg))
	}
	flags := msg[0]
	if flags&^videoFlagKeyframe != 0 {
		return VideoFrame{}, fmt.Errorf("%w: video frame flags %#x", ErrProtocol, flags)
	}
	return VideoFrame{
		Keyframe:   flags&videoFlagKeyframe != 0,
		Seq:        binary.LittleEndian.Uint32(msg[1:]),
		CapturedUS: binary.LittleEndian.Uint64(msg[5:]),
		Data:       msg[videoHeaderLen:],
	}, nil
}

// DefaultReorderWindow is how many frames VideoReorder holds while it waits for a
// missing one (about 130 ms at 30 fps) before it declares the frame lost.
const DefaultReorderWindow = 4

// VideoStats count what a VideoReorder did with the frames it was given.
type VideoStats struct {
	Delivered uint64 // frames returned in order
	Lost      uint64 // frame numbers that never arrived in time
	Late      uint64 // frames that arrived after their turn, or twice (dropped)
	Skipped   uint64 // frames dropped while waiting for a keyframe
}

// VideoReorder puts received video frames back in order and drops what a decoder cannot
// use. It holds frames that arrive ahead of a missing one, up to a window; when the
// window overflows, or a keyframe arrives past the gap, the missing frames count as lost
// and delta frames are skipped until the next keyframe. It is a pure state machine (no
// clock, no goroutines); the zero value is not usable, call NewVideoReorder.
type VideoReorder struct {
	window  int
	started bool
	next    uint32 // the frame number due next
	needKey bool   // a loss happened: deliver nothing until a keyframe
	held    map[uint32]VideoFrame
	stats   VideoStats
}

// NewVideoReorder returns a reorderer holding at most window frames (DefaultReorderWindow
// when window < 1).
func NewVideoReorder(window int) *VideoReorder {
	if window < 1 {
		window = DefaultReorderWindow
	}
	return &VideoReorder{window: window, held: make(map[uint32]VideoFrame, window+1)}
}

// seqBefore reports whether a comes before b in wrapping serial order.
func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }

// Stats returns the counters so far.
func (r *VideoReorder) Stats() VideoStats { return r.stats }

// Push adds a received frame. It returns the frames that are now due, in order, ready
// for the decoder, and whether the caller should ask the sender for a keyframe (it is
// true once per loss, and for every delta frame while no keyframe has been seen yet; the
// caller rate-limits its requests).
func (r *VideoReorder) Push(f VideoFrame) (ready []VideoFrame, requestKeyframe bool) {
	if !r.started {
		if !f.Keyframe {
			r.stats.Skipped++
			return nil, true
		}
		r.started, r.next = true, f.Seq
	}
	if seqBefore(f.Seq, r.next) {
		r.stats.Late++
		return nil, false
	}
	if _, dup := r.held[f.Seq]; dup {
		r.stats.Late++
		return nil, false
	}
	if f.Keyframe && f.Seq != r.next {
		// Nothing before a keyframe is needed any more: give up the gap now.
		r.skipTo(f.Seq)
		r.needKey = false
	}
	r.held[f.Seq] = f
	for {
		for {
			g, ok := r.held[r.next]
			if !ok {
				break
			}
			delete(r.held, r.next)
			r.next++
			if r.needKey && !g.Keyframe {
				r.stats.Skipped++
				continue
			}
			r.needKey = false
			r.stats.Delivered++
			ready = append(ready, g)
		}
		if len(r.held) <= r.window {
			return ready, requestKeyframe
		}
		// The window is full and the due frame is still missing: it is lost.
		r.skipTo(r.earliestHeld())
		if !r.needKey {
			r.needKey, requestKeyframe = true, true
		}
	}
}

// skipTo counts the missing frames before seq as lost and drops held frames before it.
func (r *VideoReorder) skipTo(seq uint32) {
	gap := uint64(seq - r.next)
	for s := range r.held {
		if seqBefore(s, seq) {
			delete(r.held, s)
			r.stats.Skipped++
			gap--
		}
	}
	r.stats.Lost += gap
	r.next = seq
}

// earliestHeld is the first held frame number in serial order (held is not empty).
func (r *VideoReorder) earliestHeld() uint32 {
	seqs := make([]uint32, 0, len(r.held))
	for s := range r.held {
		seqs = append(seqs, s)
	}
	return slices.MinFunc(seqs, func(a, b uint32) int {
		switch {
		case a == b:
			return 0
		case seqBefore(a, b):
			return -1
		}
		return 1
	})
}
