//go:build cgo && !noopenh264

package codec

/*
#cgo pkg-config: openh264
#include <stdlib.h>
#include <string.h>
#include <wels/codec_api.h>

// OpenH264's objects are pointers to vtables; these helpers call through them so Go never
// has to. All state lives in C memory owned by the Go wrapper.

typedef struct {
	ISVCEncoder *enc;
	int initialized;
	SEncParamExt param;
	SFrameBSInfo info;
} sl_henc;

static int sl_henc_create(sl_henc *h) {
	if (WelsCreateSVCEncoder(&h->enc) != 0 || h->enc == NULL) return -1;
	int level = WELS_LOG_QUIET;
	(*h->enc)->SetOption(h->enc, ENCODER_OPTION_TRACE_LEVEL, &level);
	return (*h->enc)->GetDefaultParams(h->enc, &h->param);
}

static int sl_henc_init(sl_henc *h) {
	int rc = (*h->enc)->InitializeExt(h->enc, &h->param);
	if (rc == 0) {
		h->initialized = 1;
		int fmt = videoFormatI420;
		rc = (*h->enc)->SetOption(h->enc, ENCODER_OPTION_DATAFORMAT, &fmt);
	}
	return rc;
}

// sl_henc_reinit restarts the encoder with the current parameters; the next frame is an
// IDR. OpenH264 ignores QP limits changed through SetOption, so this is how they change.
static int sl_henc_reinit(sl_henc *h) {
	if (h->initialized) (*h->enc)->Uninitialize(h->enc);
	h->initialized = 0;
	return sl_henc_init(h);
}

static int sl_henc_set_bitrate(sl_henc *h, int bps, int max_bps) {
	SBitrateInfo b;
	int rc;
	// Raise the ceiling first, or OpenH264 clamps the target to the old one.
	b.iLayer = SPATIAL_LAYER_ALL;
	b.iBitrate = max_bps;
	rc = (*h->enc)->SetOption(h->enc, ENCODER_OPTION_MAX_BITRATE, &b);
	if (rc != 0) return rc;
	b.iLayer = SPATIAL_LAYER_ALL;
	b.iBitrate = bps;
	return (*h->enc)->SetOption(h->enc, ENCODER_OPTION_BITRATE, &b);
}

static int sl_henc_set_fps(sl_henc *h, float fps) {
	return (*h->enc)->SetOption(h->enc, ENCODER_OPTION_FRAME_RATE, &fps);
}

static int sl_henc_force_idr(sl_henc *h) { return (*h->enc)->ForceIntraFrame(h->enc, true); }

// sl_henc_encode encodes the caller's planes, which OpenH264 copies during the call.
static int sl_henc_encode(sl_henc *h, int w, int hh,
		unsigned char *y, unsigned char *u, unsigned char *v, int ys, int cs, long long ms) {
	SSourcePicture pic;
	memset(&pic, 0, sizeof pic);
	pic.iColorFormat = videoFormatI420;
	pic.iPicWidth = w;
	pic.iPicHeight = hh;
	pic.pData[0] = y;
	pic.pData[1] = u;
	pic.pData[2] = v;
	pic.iStride[0] = ys;
	pic.iStride[1] = cs;
	pic.iStride[2] = cs;
	pic.uiTimeStamp = ms;
	memset(&h->info, 0, sizeof h->info);
	return (*h->enc)->EncodeFrame(h->enc, &pic, &h->info);
}

// sl_henc_size is the byte length of all NAL units of the last encoded frame.
static size_t sl_henc_size(sl_henc *h) {
	size_t n = 0;
	for (int l = 0; l < h->info.iLayerNum && l < MAX_LAYER_NUM_OF_FRAME; l++) {
		SLayerBSInfo *li = &h->info.sLayerInfo[l];
		for (int i = 0; i < li->iNalCount; i++) n += (size_t)li->pNalLengthInByte[i];
	}
	return n;
}

// sl_henc_copy copies the NAL units of the last frame (Annex B, with start codes) to dst.
static void sl_henc_copy(sl_henc *h, unsigned char *dst) {
	for (int l = 0; l < h->info.iLayerNum && l < MAX_LAYER_NUM_OF_FRAME; l++) {
		SLayerBSInfo *li = &h->info.sLayerInfo[l];
		size_t n = 0;
		for (int i = 0; i < li->iNalCount; i++) n += (size_t)li->pNalLengthInByte[i];
		memcpy(dst, li->pBsBuf, n);
		dst += n;
	}
}

static void sl_henc_free(sl_henc *h) {
	if (h->enc != NULL) {
		if (h->initialized) (*h->enc)->Uninitialize(h->enc);
		WelsDestroySVCEncoder(h->enc);
	}
	free(h);
}

typedef struct {
	ISVCDecoder *dec;
	unsigned char *buf;
	size_t cap;
	SBufferInfo info;
	unsigned char *dst[3];
} sl_hdec;

static long sl_hdec_create(sl_hdec *d) {
	if (WelsCreateDecoder(&d->dec) != 0 || d->dec == NULL) return -1;
	int level = WELS_LOG_QUIET;
	(*d->dec)->SetOption(d->dec, DECODER_OPTION_TRACE_LEVEL, &level);
	SDecodingParam p;
	memset(&p, 0, sizeof p);
	p.sVideoProperty.size = sizeof p.sVideoProperty;
	p.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
	p.eEcActiveIdc = ERROR_CON_DISABLE;
	return (*d->dec)->Initialize(d->dec, &p);
}

// sl_hdec_decode copies n bytes into the context's buffer and decodes them at once.
static int sl_hdec_decode(sl_hdec *d, const unsigned char *data, size_t n) {
	if (n + 8 > d->cap) {
		unsigned char *b = realloc(d->buf, n + 8);
		if (b == NULL) return -1;
		d->buf = b;
		d->cap = n + 8;
	}
	memcpy(d->buf, data, n);
	memset(d->buf + n, 0, 8);
	memset(&d->info, 0, sizeof d->info);
	d->dst[0] = d->dst[1] = d->dst[2] = NULL;
	return (int)(*d->dec)->DecodeFrameNoDelay(d->dec, d->buf, (int)n, d->dst, &d->info);
}

static int sl_hdec_ready(sl_hdec *d) { return d->info.iBufferStatus == 1 && d->dst[0] && d->dst[1] && d->dst[2]; }
static int sl_hdec_width(sl_hdec *d) { return d->info.UsrData.sSystemBuffer.iWidth; }
static int sl_hdec_height(sl_hdec *d) { return d->info.UsrData.sSystemBuffer.iHeight; }
static int sl_hdec_stride(sl_hdec *d, int i) { return d->info.UsrData.sSystemBuffer.iStride[i]; }
static unsigned char *sl_hdec_plane(sl_hdec *d, int i) { return d->dst[i]; }

static void sl_hdec_free(sl_hdec *d) {
	if (d->dec != NULL) {
		(*d->dec)->Uninitialize(d->dec);
		WelsDestroyDecoder(d->dec);
	}
	free(d->buf);
	free(d);
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

const haveOpenH264 = true

type h264Encoder struct {
	c   *C.sl_henc
	cfg EncoderConfig
	// OpenH264's own default QP range, restored by a quantizer of 0.
	defMinQP, defMaxQP int
	// cleanup frees the C context if the encoder is dropped without Close.
	cleanup runtime.Cleanup
}

func newH264Encoder(cfg EncoderConfig) (Encoder, error) {
	c := (*C.sl_henc)(C.calloc(1, C.size_t(unsafe.Sizeof(C.sl_henc{}))))
	if c == nil {
		return nil, fmt.Errorf("codec: H264: out of memory")
	}
	if rc := C.sl_henc_create(c); rc != 0 {
		C.sl_henc_free(c)
		return nil, fmt.Errorf("codec: H264: create encoder: error %d", int(rc))
	}
	e := &h264Encoder{c: c, cfg: cfg, defMinQP: int(c.param.iMinQp), defMaxQP: int(c.param.iMaxQp)}
	threads := defaultThreads(cfg)
	p := &c.param
	if cfg.ScreenContent {
		p.iUsageType = C.SCREEN_CONTENT_REAL_TIME
	} else {
		p.iUsageType = C.CAMERA_VIDEO_REAL_TIME
	}
	p.iPicWidth = C.int(cfg.Width)
	p.iPicHeight = C.int(cfg.Height)
	p.iRCMode = C.RC_BITRATE_MODE
	p.fMaxFrameRate = C.float(cfg.FrameRate)
	p.iTemporalLayerNum = 1
	p.iSpatialLayerNum = 1
	p.uiIntraPeriod = C.uint(cfg.KeyframeInterval)
	p.iNumRefFrame = 1
	p.eSpsPpsIdStrategy = C.CONSTANT_ID
	p.bPrefixNalAddingCtrl = false
	p.bEnableSSEI = false
	p.bSimulcastAVC = false
	p.iPaddingFlag = 0
	p.iEntropyCodingModeFlag = 0 // CAVLC: constrained baseline
	p.bEnableLongTermReference = false
	p.iMultipleThreadIdc = C.ushort(threads)
	p.bEnableDenoise = false
	p.bEnableBackgroundDetection = true
	p.bEnableAdaptiveQuant = !C.bool(cfg.ScreenContent)
	p.bEnableFrameCroppingFlag = true
	p.bEnableSceneChangeDetect = true
	p.iLoopFilterDisableIdc = 0
	l := &p.sSpatialLayers[0]
	l.iVideoWidth = C.int(cfg.Width)
	l.iVideoHeight = C.int(cfg.Height)
	l.fFrameRate = C.float(cfg.FrameRate)
	l.uiProfileIdc = C.PRO_BASELINE
	l.uiLevelIdc = 0 // derived from size and rate
	if threads > 1 {
		l.sSliceArgument.uiSliceMode = C.SM_FIXEDSLCNUM_SLICE
		l.sSliceArgument.uiSliceNum = C.uint(threads)
	} else {
		l.sSliceArgument.uiSliceMode = C.SM_SINGLE_SLICE
		l.sSliceArgument.uiSliceNum = 1
	}
	e.fillRate(cfg.BitrateKbps)
	e.fillQuantizers(cfg.MinQuantizer, cfg.MaxQuantizer)
	if rc := C.sl_henc_init(c); rc != 0 {
		C.sl_henc_free(c)
		return nil, fmt.Errorf("codec: H264: initialize encoder %dx%d: error %d", cfg.Width, cfg.Height, int(rc))
	}
	e.cfg.Threads = threads
	e.cleanup = runtime.AddCleanup(e, freeH264Encoder, c)
	return e, nil
}

// maxBitrate is the ceiling OpenH264's rate control keeps to, in bit/s.
func (e *h264Encoder) maxBitrate(kbps int) int {
	if e.cfg.MaxFrameRatio > 0 {
		return kbps * 1000
	}
	return kbps * 1500
}

// fillRate sets the rate-control parameters for kbps in the C parameter block.
func (e *h264Encoder) fillRate(kbps int) {
	p := &e.c.param
	p.iTargetBitrate = C.int(kbps * 1000)
	p.iMaxBitrate = C.int(e.maxBitrate(kbps))
	p.sSpatialLayers[0].iSpatialBitrate = p.iTargetBitrate
	p.sSpatialLayers[0].iMaxSpatialBitrate = p.iMaxBitrate
	if r := e.cfg.MaxFrameRatio; r > 0 {
		p.bEnableFrameSkip = true
		p.iIdrBitrateRatio = C.int(max(math.Round(r*100), 100))
	} else {
		p.bEnableFrameSkip = false
	}
}

func (e *h264Encoder) fillQuantizers(minQ, maxQ int) {
	if minQ == 0 {
		minQ = e.defMinQP
	}
	if maxQ == 0 {
		maxQ = max(e.defMaxQP, minQ)
	}
	minQ = min(minQ, maxQ)
	e.c.param.iMinQp = C.int(minQ)
	e.c.param.iMaxQp = C.int(maxQ)
}

func (e *h264Encoder) Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) (Packet, error) {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return Packet{}, ErrClosed
	}
	yOff, cOff, err := planes(img, e.cfg.Width, e.cfg.Height)
	if err != nil {
		return Packet{}, err
	}
	if forceKeyframe {
		if rc := C.sl_henc_force_idr(e.c); rc != 0 {
			return Packet{}, fmt.Errorf("codec: H264: force IDR: error %d", int(rc))
		}
	}
	rc := C.sl_henc_encode(e.c, C.int(e.cfg.Width), C.int(e.cfg.Height),
		(*C.uchar)(unsafe.Pointer(&img.Y[yOff])), (*C.uchar)(unsafe.Pointer(&img.Cb[cOff])),
		(*C.uchar)(unsafe.Pointer(&img.Cr[cOff])), C.int(img.YStride), C.int(img.CStride),
		C.longlong(pts.Milliseconds()))
	runtime.KeepAlive(img)
	if rc != 0 {
		return Packet{}, fmt.Errorf("codec: H264: encode: error %d", int(rc))
	}
	p := Packet{PTS: pts}
	switch e.c.info.eFrameType {
	case C.videoFrameTypeSkip, C.videoFrameTypeInvalid:
		return p, nil
	case C.videoFrameTypeIDR:
		p.Keyframe = true
	}
	if n := int(C.sl_henc_size(e.c)); n > 0 {
		p.Data = make([]byte, n)
		C.sl_henc_copy(e.c, (*C.uchar)(unsafe.Pointer(&p.Data[0])))
	}
	return p, nil
}

func (e *h264Encoder) SetBitrate(kbps int) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := checkBitrate(kbps); err != nil {
		return err
	}
	if rc := C.sl_henc_set_bitrate(e.c, C.int(kbps*1000), C.int(e.maxBitrate(kbps))); rc != 0 {
		return fmt.Errorf("codec: H264: set bitrate %d: error %d", kbps, int(rc))
	}
	e.fillRate(kbps)
	e.cfg.BitrateKbps = kbps
	return nil
}

func (e *h264Encoder) SetFrameRate(fps float64) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := checkFrameRate(fps); err != nil {
		return err
	}
	if rc := C.sl_henc_set_fps(e.c, C.float(fps)); rc != 0 {
		return fmt.Errorf("codec: H264: set frame rate %g: error %d", fps, int(rc))
	}
	e.c.param.fMaxFrameRate = C.float(fps)
	e.c.param.sSpatialLayers[0].fFrameRate = C.float(fps)
	e.cfg.FrameRate = fps
	return nil
}

// SetQuantizerRange changes the QP range. OpenH264 only takes new QP limits when it is
// initialised, so the encoder restarts and the next frame is an IDR (the stream continues:
// same SPS/PPS, and a decoder needs nothing special).
func (e *h264Encoder) SetQuantizerRange(minQ, maxQ int) error {
	defer runtime.KeepAlive(e) // the GC cleanup must not free e.c during a C call
	if e.c == nil {
		return ErrClosed
	}
	if err := checkQuantizers(H264, minQ, maxQ); err != nil {
		return err
	}
	oldMin, oldMax := e.c.param.iMinQp, e.c.param.iMaxQp
	e.fillQuantizers(minQ, maxQ)
	if rc := C.sl_henc_reinit(e.c); rc != 0 {
		e.c.param.iMinQp, e.c.param.iMaxQp = oldMin, oldMax
		if C.sl_henc_reinit(e.c) != 0 {
			e.Close() // the encoder is unusable; make that visible as ErrClosed
		}
		return fmt.Errorf("codec: H264: set quantizers %d..%d: error %d", minQ, maxQ, int(rc))
	}
	e.cfg.MinQuantizer, e.cfg.MaxQuantizer = minQ, maxQ
	return nil
}

func (e *h264Encoder) Config() EncoderConfig { return e.cfg }

func (e *h264Encoder) Close() error {
	if e.c != nil {
		e.cleanup.Stop()
		C.sl_henc_free(e.c)
		e.c = nil
	}
	return nil
}

type h264Decoder struct {
	c   *C.sl_hdec
	img *image.YCbCr
	// cleanup frees the C context if the decoder is dropped without Close.
	cleanup runtime.Cleanup
}

func newH264Decoder() (Decoder, error) {
	d := (*C.sl_hdec)(C.calloc(1, C.size_t(unsafe.Sizeof(C.sl_hdec{}))))
	if d == nil {
		return nil, fmt.Errorf("codec: H264: out of memory")
	}
	if rc := C.sl_hdec_create(d); rc != 0 {
		C.sl_hdec_free(d)
		return nil, fmt.Errorf("codec: H264: create decoder: error %d", int(rc))
	}
	dec := &h264Decoder{c: d}
	dec.cleanup = runtime.AddCleanup(dec, freeH264Decoder, d)
	return dec, nil
}

// hasStartCode reports whether b begins with an Annex B start code, as every packet of
// the encoder does.
func hasStartCode(b []byte) bool {
	return len(b) >= 4 && b[0] == 0 && b[1] == 0 && (b[2] == 1 || (b[2] == 0 && b[3] == 1))
}

func (d *h264Decoder) Decode(data []byte) (*image.YCbCr, error) {
	defer runtime.KeepAlive(d) // the GC cleanup must not free d.c during a C call
	if d.c == nil {
		return nil, ErrClosed
	}
	if !hasStartCode(data) {
		return nil, fmt.Errorf("%w: H264: packet does not start with an Annex B start code", ErrCorrupt)
	}
	if rc := C.sl_hdec_decode(d.c, (*C.uchar)(unsafe.Pointer(&data[0])), C.size_t(len(data))); rc != 0 {
		return nil, fmt.Errorf("%w: H264: decoding state 0x%x", ErrCorrupt, int(rc))
	}
	if C.sl_hdec_ready(d.c) == 0 {
		return nil, nil
	}
	w, h := int(C.sl_hdec_width(d.c)), int(C.sl_hdec_height(d.c))
	ys, cs := int(C.sl_hdec_stride(d.c, 0)), int(C.sl_hdec_stride(d.c, 1))
	cw, ch := (w+1)/2, (h+1)/2
	if w <= 0 || h <= 0 || w > MaxDimension || h > MaxDimension || ys < w || cs < cw {
		return nil, fmt.Errorf("%w: H264: bad picture %dx%d strides %d/%d", ErrCorrupt, w, h, ys, cs)
	}
	d.img = frameImage(d.img, w, h)
	copyPlaneC(d.img.Y, d.img.YStride, unsafe.Pointer(C.sl_hdec_plane(d.c, 0)), ys, w, h)
	copyPlaneC(d.img.Cb, d.img.CStride, unsafe.Pointer(C.sl_hdec_plane(d.c, 1)), cs, cw, ch)
	copyPlaneC(d.img.Cr, d.img.CStride, unsafe.Pointer(C.sl_hdec_plane(d.c, 2)), cs, cw, ch)
	return d.img, nil
}

func (d *h264Decoder) Close() error {
	if d.c != nil {
		d.cleanup.Stop()
		C.sl_hdec_free(d.c)
		d.c = nil
	}
	return nil
}

// freeH264Encoder releases a C context; it runs as a GC cleanup.
func freeH264Encoder(c *C.sl_henc) { C.sl_henc_free(c) }

// freeH264Decoder releases a C context; it runs as a GC cleanup.
func freeH264Decoder(c *C.sl_hdec) { C.sl_hdec_free(c) }
