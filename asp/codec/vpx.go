//go:build cgo && !novpx

package codec

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

// sl_venc is an encoder context in C memory; Go keeps only a pointer to it.
typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	int initialized;
	vpx_codec_iter_t iter;
	// The packet sl_venc_next found last.
	const void *out_buf;
	size_t out_sz;
	int out_key;
} sl_venc;

static vpx_codec_iface_t *sl_enc_iface(int vp9) { return vp9 ? vpx_codec_vp9_cx() : vpx_codec_vp8_cx(); }
static vpx_codec_iface_t *sl_dec_iface(int vp9) { return vp9 ? vpx_codec_vp9_dx() : vpx_codec_vp8_dx(); }

static vpx_codec_err_t sl_venc_default(sl_venc *e, int vp9) {
	return vpx_codec_enc_config_default(sl_enc_iface(vp9), &e->cfg, 0);
}

static vpx_codec_err_t sl_venc_init(sl_venc *e, int vp9) {
	vpx_codec_err_t err = vpx_codec_enc_init(&e->ctx, sl_enc_iface(vp9), &e->cfg, 0);
	if (err == VPX_CODEC_OK) e->initialized = 1;
	return err;
}

static vpx_codec_err_t sl_venc_ctrl(sl_venc *e, int id, int v) {
	return vpx_codec_control_(&e->ctx, id, v);
}

static vpx_codec_err_t sl_venc_apply(sl_venc *e) {
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
}

// sl_venc_encode wraps the caller's planes (valid only during this call; libvpx copies
// them into its own lookahead buffer) and encodes them.
static vpx_codec_err_t sl_venc_encode(sl_venc *e, int w, int h,
		unsigned char *y, unsigned char *u, unsigned char *v, int ys, int cs,
		long long pts, unsigned long dur, long flags) {
	vpx_image_t img;
	memset(&img, 0, sizeof img);
	vpx_img_wrap(&img, VPX_IMG_FMT_I420, w, h, 1, y);
	img.planes[VPX_PLANE_Y] = y;
	img.planes[VPX_PLANE_U] = u;
	img.planes[VPX_PLANE_V] = v;
	img.stride[VPX_PLANE_Y] = ys;
	img.stride[VPX_PLANE_U] = cs;
	img.stride[VPX_PLANE_V] = cs;
	e->iter = NULL;
	return vpx_codec_encode(&e->ctx, &img, pts, dur, flags, VPX_DL_REALTIME);
}

// sl_venc_next finds the next compressed frame packet; 0 when there is none.
static int sl_venc_next(sl_venc *e) {
	const vpx_codec_cx_pkt_t *p;
	while ((p = vpx_codec_get_cx_data(&e->ctx, &e->iter)) != NULL) {
		if (p->kind != VPX_CODEC_CX_FRAME_PKT) continue;
		e->out_buf = p->data.frame.buf;
		e->out_sz = p->data.frame.sz;
		e->out_key = (p->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
		return 1;
	}
	return 0;
}

static void sl_venc_free(sl_venc *e) {
	if (e->initialized) vpx_codec_destroy(&e->ctx);
	free(e);
}

static const char *sl_venc_error(sl_venc *e) {
	const char *d = vpx_codec_error_detail(&e->ctx);
	return d ? d : vpx_codec_error(&e->ctx);
}

// sl_vdec is a decoder context with its own copy of the input packet.
typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_iter_t iter;
	unsigned char *buf;
	size_t cap;
} sl_vdec;

static vpx_codec_err_t sl_vdec_init(sl_vdec *d, int vp9, int threads) {
	vpx_codec_dec_cfg_t cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.threads = threads;
	return vpx_codec_dec_init(&d->ctx, sl_dec_iface(vp9), &cfg, 0);
}

// sl_vdec_decode copies n bytes into the context's buffer and decodes them.
static vpx_codec_err_t sl_vdec_decode(sl_vdec *d, const unsigned char *data, size_t n) {
	if (n > d->cap) {
		unsigned char *b = realloc(d->buf, n);
		if (b == NULL) return VPX_CODEC_MEM_ERROR;
		d->buf = b;
		d->cap = n;
	}
	memcpy(d->buf, data, n);
	d->iter = NULL;
	return vpx_codec_decode(&d->ctx, d->buf, (unsigned int)n, NULL, 0);
}

// sl_vdec_peek reads the picture size of a keyframe without decoding it; 0 when data is
// not a keyframe or cannot be parsed.
static int sl_vdec_peek(sl_vdec *d, const unsigned char *data, size_t n, unsigned int *w, unsigned int *h) {
	vpx_codec_stream_info_t si;
	memset(&si, 0, sizeof si);
	si.sz = sizeof si;
	if (vpx_codec_peek_stream_info(d->ctx.iface, data, (unsigned int)n, &si) != VPX_CODEC_OK || !si.is_kf) return 0;
	*w = si.w;
	*h = si.h;
	return 1;
}

static vpx_image_t *sl_vdec_next(sl_vdec *d) { return vpx_codec_get_frame(&d->ctx, &d->iter); }

static void sl_vdec_free(sl_vdec *d) {
	vpx_codec_destroy(&d->ctx);
	free(d->buf);
	free(d);
}

static const char *sl_vdec_error(sl_vdec *d) {
	const char *e = vpx_codec_error_detail(&d->ctx);
	return e ? e : vpx_codec_error(&d->ctx);
}
*/
import "C"

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"time"
	"unsafe"
)

const haveVPX = true

// vpxTimebase is the clock of libvpx timestamps: 90 kHz, the RTP video clock.
const vpxTimebase = 90000

// Default quantiser range for libvpx, as WebRTC uses for realtime.
const (
	vpxDefaultMinQ = 2
	vpxDefaultMaxQ = 63
)

type vpxEncoder struct {
	c        *C.sl_venc
	cfg      EncoderConfig
	vp9      bool
	lastPTS  int64
	havePTS  bool
	duration C.ulong
	// cleanup frees the C context if the encoder is dropped without Close.
	cleanup runtime.Cleanup
}

func newVPXEncoder(cfg EncoderConfig) (Encoder, error) {
	vp9 := C.int(0)
	if cfg.Codec == VP9 {
		vp9 = 1
	}
	c := (*C.sl_venc)(C.calloc(1, C.size_t(unsafe.Sizeof(C.sl_venc{}))))
	if c == nil {
		return nil, fmt.Errorf("codec: %s: out of memory", cfg.Codec)
	}
	e := &vpxEncoder{c: c, cfg: cfg, vp9: vp9 == 1}
	if err := C.sl_venc_default(c, vp9); err != C.VPX_CODEC_OK {
		C.sl_venc_free(c)
		return nil, fmt.Errorf("codec: %s default config: %s", cfg.Codec, C.GoString(C.vpx_codec_err_to_string(err)))
	}
	threads := defaultThreads(cfg)
	k := &c.cfg
	k.g_w = C.uint(cfg.Width)
	k.g_h = C.uint(cfg.Height)
	k.g_timebase.num = 1
	k.g_timebase.den = vpxTimebase
	k.g_threads = C.uint(threads)
	k.g_pass = C.VPX_RC_ONE_PASS
	k.g_lag_in_frames = 0
	k.g_error_resilient = C.VPX_ERROR_RESILIENT_DEFAULT
	k.rc_end_usage = C.VPX_CBR
	k.rc_resize_allowed = 0
	k.rc_dropframe_thresh = 0
	k.rc_undershoot_pct = 100
	k.rc_overshoot_pct = 15
	if cfg.KeyframeInterval > 0 {
		k.kf_mode = C.VPX_KF_AUTO
		k.kf_min_dist = 0
		k.kf_max_dist = C.uint(cfg.KeyframeInterval)
	} else {
		k.kf_mode = C.VPX_KF_DISABLED
	}
	e.setRate(cfg.BitrateKbps, cfg.FrameRate)
	e.setQuantizers(cfg.MinQuantizer, cfg.MaxQuantizer)
	if err := C.sl_venc_init(c, vp9); err != C.VPX_CODEC_OK {
		msg := C.GoString(C.sl_venc_error(c))
		C.sl_venc_free(c)
		return nil, fmt.Errorf("codec: %s init: %s", cfg.Codec, msg)
	}
	var ctrls [][2]int
	if e.vp9 {
		tiles := 0
		for t := threads; t > 1; t >>= 1 {
			tiles++
		}
		content := C.VP9E_CONTENT_DEFAULT
		if cfg.ScreenContent {
			content = C.VP9E_CONTENT_SCREEN
		}
		ctrls = [][2]int{
			{C.VP8E_SET_CPUUSED, e.cpuUsed()},
			{C.VP9E_SET_ROW_MT, 1},
			{C.VP9E_SET_TILE_COLUMNS, tiles},
			{C.VP9E_SET_AQ_MODE, 3}, // cyclic refresh, recovers from loss without keyframes
			{C.VP9E_SET_TUNE_CONTENT, content},
			{C.VP9E_SET_NOISE_SENSITIVITY, 0},
			{C.VP9E_SET_FRAME_PARALLEL_DECODING, 1},
		}
	} else {
		partitions := 0
		for t := threads; t > 1 && partitions < 3; t >>= 1 {
			partitions++
		}
		screen := e.screenMode()
		ctrls = [][2]int{
			{C.VP8E_SET_CPUUSED, e.cpuUsed()},
			{C.VP8E_SET_NOISE_SENSITIVITY, 0},
			{C.VP8E_SET_STATIC_THRESHOLD, 1},
			{C.VP8E_SET_TOKEN_PARTITIONS, partitions},
			{C.VP8E_SET_SCREEN_CONTENT_MODE, screen},
		}
	}
	for _, ct := range ctrls {
		if err := C.sl_venc_ctrl(c, C.int(ct[0]), C.int(ct[1])); err != C.VPX_CODEC_OK {
			msg := C.GoString(C.sl_venc_error(c))
			C.sl_venc_free(c)
			return nil, fmt.Errorf("codec: %s control %d=%d: %s", cfg.Codec, ct[0], ct[1], msg)
		}
	}
	if err := e.applyIntraLimit(); err != nil {
		C.sl_venc_free(c)
		return nil, err
	}
	e.cfg.Threads = threads
	e.cleanup = runtime.AddCleanup(e, freeVPXEncoder, c)
	return e, nil
}

// vp8Speed is libvpx's cpu-used for VP8 when the configuration leaves it to us: negative
// values fix the speed (16 is the fastest), so encode time does not wander with load.
const vp8Speed = 10

// vp9Speed is libvpx's cpu-used for VP9 in realtime mode (5..9, higher is faster).
func vp9Speed(cfg EncoderConfig) int {
	if cfg.Width*cfg.Height >= 1280*720 {
		return 8
	}
	return 7
}

// cpuUsed is the libvpx cpu-used control for the configured speed.
func (e *vpxEncoder) cpuUsed() int {
	sp := e.cfg.Speed
	if e.vp9 {
		if sp <= 0 {
			return vp9Speed(e.cfg)
		}
		return min(sp, 9)
	}
	if sp <= 0 {
		sp = vp8Speed
	}
	return -min(sp, 16)
}

// SetSpeed changes the speed (EncoderConfig.Speed) from the next frame on.
func (e *vpxEncoder) SetSpeed(speed int) error {
	if speed < 0 || speed > 16 {
		return fmt.Errorf("%w: speed %d outside 0..16", ErrInvalidConfig, speed)
	}
	old := e.cfg.Speed
	e.cfg.Speed = speed
	if err := e.setControl(C.VP8E_SET_CPUUSED, e.cpuUsed()); err != nil {
		e.cfg.Speed = old
		return err
	}
	return nil
}

// setRate fills the rate-control fields of the C configuration for kbps and fps.
func (e *vpxEncoder) setRate(kbps int, fps float64) {
	k := &e.c.cfg
	k.rc_target_bitrate = C.uint(kbps)
	frameMS := 1000 / fps
	if r := e.cfg.MaxFrameRatio; r > 0 {
		// Single-frame VBV: the buffer holds about r frames, and starts and stays nearly full.
		buf := max(math.Round(r*frameMS), 1)
		k.rc_buf_sz = C.uint(buf)
		k.rc_buf_initial_sz = C.uint(max(buf*5/6, 1))
		k.rc_buf_optimal_sz = C.uint(max(buf*5/6, 1))
	} else {
		k.rc_buf_sz = 1000
		k.rc_buf_initial_sz = 500
		k.rc_buf_optimal_sz = 600
	}
	e.duration = C.ulong(max(math.Round(vpxTimebase/fps), 1))
}

// intraLimitPct is the largest keyframe as a percentage of an average frame.
func (e *vpxEncoder) intraLimitPct() int {
	if r := e.cfg.MaxFrameRatio; r > 0 {
		return max(int(r*100), 100)
	}
	// WebRTC's choice: half the optimal buffer, in frames.
	return max(int(600*0.5*e.cfg.FrameRate/10), 300)
}

func (e *vpxEncoder) applyIntraLimit() error {
	if err := C.sl_venc_ctrl(e.c, C.VP8E_SET_MAX_INTRA_BITRATE_PCT, C.int(e.intraLimitPct())); err != C.VPX_CODEC_OK {
		return fmt.Errorf("codec: %s max intra bitrate: %s", e.cfg.Codec, C.GoString(C.sl_venc_error(e.c)))
	}
	if e.vp9 && e.cfg.MaxFrameRatio > 0 {
		if err := C.sl_venc_ctrl(e.c, C.VP9E_SET_MAX_INTER_BITRATE_PCT, C.int(e.intraLimitPct())); err != C.VPX_CODEC_OK {
			return fmt.Errorf("codec: %s max inter bitrate: %s", e.cfg.Codec, C.GoString(C.sl_venc_error(e.c)))
		}
	}
	return nil
}

func (e *vpxEncoder) setQuantizers(minQ, maxQ int) {
	if minQ == 0 {
		minQ = vpxDefaultMinQ
	}
	if maxQ == 0 {
		maxQ = max(vpxDefaultMaxQ, minQ)
	}
	minQ = min(minQ, maxQ)
	e.c.cfg.rc_min_quantizer = C.uint(minQ)
	e.c.cfg.rc_max_quantizer = C.uint(maxQ)
}

func (e *vpxEncoder) Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) (Packet, error) {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return Packet{}, ErrClosed
	}
	yOff, cOff, err := planes(img, e.cfg.Width, e.cfg.Height)
	if err != nil {
		return Packet{}, err
	}
	ticks := toTicks(pts)
	if e.havePTS && ticks <= e.lastPTS {
		ticks = e.lastPTS + 1 // libvpx needs increasing timestamps
	}
	e.lastPTS, e.havePTS = ticks, true
	var flags C.long
	if forceKeyframe {
		flags = C.VPX_EFLAG_FORCE_KF
	}
	rc := C.sl_venc_encode(e.c, C.int(e.cfg.Width), C.int(e.cfg.Height),
		(*C.uchar)(unsafe.Pointer(&img.Y[yOff])), (*C.uchar)(unsafe.Pointer(&img.Cb[cOff])),
		(*C.uchar)(unsafe.Pointer(&img.Cr[cOff])), C.int(img.YStride), C.int(img.CStride),
		C.longlong(ticks), e.duration, flags)
	runtime.KeepAlive(img)
	if rc != C.VPX_CODEC_OK {
		return Packet{}, fmt.Errorf("codec: %s encode: %s", e.cfg.Codec, C.GoString(C.sl_venc_error(e.c)))
	}
	p := Packet{PTS: pts}
	for C.sl_venc_next(e.c) != 0 {
		data := unsafe.Slice((*byte)(e.c.out_buf), int(e.c.out_sz))
		if p.Data == nil {
			p.Data = make([]byte, 0, len(data))
		}
		p.Data = append(p.Data, data...)
		p.Keyframe = p.Keyframe || e.c.out_key != 0
	}
	return p, nil
}

// toTicks converts a duration to the 90 kHz clock without overflowing.
func toTicks(d time.Duration) int64 {
	ns := int64(d)
	return ns/100000*9 + ns%100000*9/100000
}

func (e *vpxEncoder) SetBitrate(kbps int) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := checkBitrate(kbps); err != nil {
		return err
	}
	old := e.c.cfg
	e.setRate(kbps, e.cfg.FrameRate)
	if err := C.sl_venc_apply(e.c); err != C.VPX_CODEC_OK {
		e.c.cfg = old
		return fmt.Errorf("codec: %s set bitrate %d: %s", e.cfg.Codec, kbps, C.GoString(C.sl_venc_error(e.c)))
	}
	e.cfg.BitrateKbps = kbps
	return nil
}

// screenMode is VP8's screen content mode for the configuration.
func (e *vpxEncoder) screenMode() int {
	switch {
	case !e.cfg.ScreenContent:
		return 0
	case e.cfg.MaxFrameRatio > 0:
		return 2 // drops and re-quantises frames that overshoot the budget
	}
	return 1
}

// SetScreenContent changes EncoderConfig.ScreenContent from the next frame on.
func (e *vpxEncoder) SetScreenContent(screen bool) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	old := e.cfg.ScreenContent
	e.cfg.ScreenContent = screen
	var err error
	if e.vp9 {
		content := C.VP9E_CONTENT_DEFAULT
		if screen {
			content = C.VP9E_CONTENT_SCREEN
		}
		err = e.setControl(C.VP9E_SET_TUNE_CONTENT, content)
	} else {
		err = e.setControl(C.VP8E_SET_SCREEN_CONTENT_MODE, e.screenMode())
	}
	if err != nil {
		e.cfg.ScreenContent = old
	}
	return err
}

// SetMaxFrameRatio changes the single-frame VBV (EncoderConfig.MaxFrameRatio) from the
// next frame on.
func (e *vpxEncoder) SetMaxFrameRatio(ratio float64) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if e.cfg.MaxFrameRatio <= 0 || ratio <= 0 || math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		return fmt.Errorf("%w: max frame ratio %g on a stream opened with %g", ErrInvalidConfig, ratio, e.cfg.MaxFrameRatio)
	}
	old, oldRatio := e.c.cfg, e.cfg.MaxFrameRatio
	e.cfg.MaxFrameRatio = ratio
	e.setRate(e.cfg.BitrateKbps, e.cfg.FrameRate)
	if err := C.sl_venc_apply(e.c); err != C.VPX_CODEC_OK {
		e.c.cfg, e.cfg.MaxFrameRatio = old, oldRatio
		return fmt.Errorf("codec: %s set max frame ratio %g: %s", e.cfg.Codec, ratio, C.GoString(C.sl_venc_error(e.c)))
	}
	return e.applyIntraLimit()
}

func (e *vpxEncoder) SetFrameRate(fps float64) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := checkFrameRate(fps); err != nil {
		return err
	}
	old, oldDur := e.c.cfg, e.duration
	e.setRate(e.cfg.BitrateKbps, fps)
	if err := C.sl_venc_apply(e.c); err != C.VPX_CODEC_OK {
		e.c.cfg, e.duration = old, oldDur
		return fmt.Errorf("codec: %s set frame rate %g: %s", e.cfg.Codec, fps, C.GoString(C.sl_venc_error(e.c)))
	}
	e.cfg.FrameRate = fps
	return e.applyIntraLimit()
}

func (e *vpxEncoder) SetQuantizerRange(minQ, maxQ int) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := checkQuantizers(e.cfg.Codec, minQ, maxQ); err != nil {
		return err
	}
	old := e.c.cfg
	e.setQuantizers(minQ, maxQ)
	if err := C.sl_venc_apply(e.c); err != C.VPX_CODEC_OK {
		e.c.cfg = old
		return fmt.Errorf("codec: %s set quantizers %d..%d: %s", e.cfg.Codec, minQ, maxQ, C.GoString(C.sl_venc_error(e.c)))
	}
	e.cfg.MinQuantizer, e.cfg.MaxQuantizer = minQ, maxQ
	return nil
}

func (e *vpxEncoder) Config() EncoderConfig { return e.cfg }

func (e *vpxEncoder) Close() error {
	if e.c != nil {
		e.cleanup.Stop()
		C.sl_venc_free(e.c)
		e.c = nil
	}
	return nil
}

type vpxDecoder struct {
	c     *C.sl_vdec
	codec Codec
	img   *image.YCbCr
	// cleanup frees the C context if the decoder is dropped without Close.
	cleanup runtime.Cleanup
}

func newVPXDecoder(c Codec) (Decoder, error) {
	vp9 := C.int(0)
	if c == VP9 {
		vp9 = 1
	}
	d := (*C.sl_vdec)(C.calloc(1, C.size_t(unsafe.Sizeof(C.sl_vdec{}))))
	if d == nil {
		return nil, fmt.Errorf("codec: %s: out of memory", c)
	}
	threads := max(1, min(runtime.NumCPU(), 4))
	if err := C.sl_vdec_init(d, vp9, C.int(threads)); err != C.VPX_CODEC_OK {
		C.free(unsafe.Pointer(d))
		return nil, fmt.Errorf("codec: %s decoder init: %s", c, C.GoString(C.vpx_codec_err_to_string(err)))
	}
	dec := &vpxDecoder{c: d, codec: c}
	dec.cleanup = runtime.AddCleanup(dec, freeVPXDecoder, d)
	return dec, nil
}

func (d *vpxDecoder) Decode(data []byte) (*image.YCbCr, error) {
	defer runtime.KeepAlive(d) // the GC cleanup must not free d.c during a C call
	if d.c == nil {
		return nil, ErrClosed
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: %s: empty packet", ErrCorrupt, d.codec)
	}
	// Refuse keyframes of absurd size before libvpx allocates frame buffers for them.
	var kw, kh C.uint
	if C.sl_vdec_peek(d.c, (*C.uchar)(unsafe.Pointer(&data[0])), C.size_t(len(data)), &kw, &kh) != 0 &&
		(kw > MaxDimension || kh > MaxDimension) {
		return nil, fmt.Errorf("%w: %s: keyframe size %dx%d exceeds %d", ErrCorrupt, d.codec, kw, kh, MaxDimension)
	}
	if rc := C.sl_vdec_decode(d.c, (*C.uchar)(unsafe.Pointer(&data[0])), C.size_t(len(data))); rc != C.VPX_CODEC_OK {
		return nil, fmt.Errorf("%w: %s: %s", ErrCorrupt, d.codec, C.GoString(C.sl_vdec_error(d.c)))
	}
	var last *C.vpx_image_t
	for f := C.sl_vdec_next(d.c); f != nil; f = C.sl_vdec_next(d.c) {
		last = f
	}
	if last == nil {
		return nil, nil
	}
	if last.fmt != C.VPX_IMG_FMT_I420 {
		return nil, fmt.Errorf("%w: %s: picture format %d is not 8-bit 4:2:0", ErrCorrupt, d.codec, int(last.fmt))
	}
	w, h := int(last.d_w), int(last.d_h)
	if w <= 0 || h <= 0 || w > MaxDimension || h > MaxDimension {
		return nil, fmt.Errorf("%w: %s: picture size %dx%d out of range", ErrCorrupt, d.codec, w, h)
	}
	d.img = frameImage(d.img, w, h)
	copyPlaneC(d.img.Y, d.img.YStride, unsafe.Pointer(last.planes[0]), int(last.stride[0]), w, h)
	cw, ch := (w+1)/2, (h+1)/2
	copyPlaneC(d.img.Cb, d.img.CStride, unsafe.Pointer(last.planes[1]), int(last.stride[1]), cw, ch)
	copyPlaneC(d.img.Cr, d.img.CStride, unsafe.Pointer(last.planes[2]), int(last.stride[2]), cw, ch)
	return d.img, nil
}

func (d *vpxDecoder) Close() error {
	if d.c != nil {
		d.cleanup.Stop()
		C.sl_vdec_free(d.c)
		d.c = nil
	}
	return nil
}

// setControl sets one libvpx encoder control (the VP8E_/VP9E_ constants of vp8cx.h).
func (e *vpxEncoder) setControl(id, v int) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := C.sl_venc_ctrl(e.c, C.int(id), C.int(v)); err != C.VPX_CODEC_OK {
		return fmt.Errorf("codec: %s control %d=%d: %s", e.cfg.Codec, id, v, C.GoString(C.sl_venc_error(e.c)))
	}
	return nil
}

// freeVPXEncoder releases a C context; it runs as a GC cleanup.
func freeVPXEncoder(c *C.sl_venc) { C.sl_venc_free(c) }

// freeVPXDecoder releases a C context; it runs as a GC cleanup.
func freeVPXDecoder(c *C.sl_vdec) { C.sl_vdec_free(c) }
