//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels of the VIF statistic; see vif_planes.go for the plane layout and
// vifVert8Go, vifVert16Go and vifHStatGo for the reference computations they reproduce
// exactly.

// func vifVert8AVX2(rows *[9][4]*uint16, planes *uint16, stride, n int)
//
// Per block of 16 columns, for each tap pair p: the rows a and b of the pair are
// interleaved word by word (vpunpck{l,h}wd, which puts columns 0-3/8-11 in the low half
// and 4-7/12-15 in the high half), so that one signed multiply-add gives f·xa + f·xb for
// the means and xa·xa + xb·xb (or xa·ya + xb·yb) for the moments, which are then scaled by
// f in 32 bits. All sums are exact in 32 bits for 8-bit samples. vpackusdw of the two
// halves restores the column order.
//
// Accumulators: Y0/Y1 mean of ref, Y2/Y3 mean of dis, Y4/Y5 ref², Y6/Y7 dis², Y8/Y9 ref·dis.
TEXT ·vifVert8AVX2(SB), NOSPLIT, $0-32
	MOVQ rows+0(FP), SI
	MOVQ planes+8(FP), DI
	MOVQ stride+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $1, CX
	XORQ BX, BX

vblock:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	MOVQ SI, R8
	LEAQ vifVTaps<>(SB), R9
	MOVQ $9, AX

vpair:
	MOVQ 0(R8), R10
	MOVQ 8(R8), R11
	VMOVDQU (R10)(BX*1), Y10
	VMOVDQU (R11)(BX*1), Y11
	VPUNPCKLWD Y11, Y10, Y12
	VPUNPCKHWD Y11, Y10, Y13
	MOVQ 16(R8), R10
	MOVQ 24(R8), R11
	VMOVDQU (R10)(BX*1), Y10
	VMOVDQU (R11)(BX*1), Y11
	VPUNPCKLWD Y11, Y10, Y14
	VPUNPCKHWD Y11, Y10, Y15

	VPMADDWD 0(R9), Y12, Y10
	VPADDD   Y10, Y0, Y0
	VPMADDWD 0(R9), Y13, Y11
	VPADDD   Y11, Y1, Y1
	VPMADDWD 0(R9), Y14, Y10
	VPADDD   Y10, Y2, Y2
	VPMADDWD 0(R9), Y15, Y11
	VPADDD   Y11, Y3, Y3

	VPMADDWD Y12, Y12, Y10
	VPMULLD  32(R9), Y10, Y10
	VPADDD   Y10, Y4, Y4
	VPMADDWD Y13, Y13, Y11
	VPMULLD  32(R9), Y11, Y11
	VPADDD   Y11, Y5, Y5
	VPMADDWD Y14, Y14, Y10
	VPMULLD  32(R9), Y10, Y10
	VPADDD   Y10, Y6, Y6
	VPMADDWD Y15, Y15, Y11
	VPMULLD  32(R9), Y11, Y11
	VPADDD   Y11, Y7, Y7
	VPMADDWD Y14, Y12, Y10
	VPMULLD  32(R9), Y10, Y10
	VPADDD   Y10, Y8, Y8
	VPMADDWD Y15, Y13, Y11
	VPMULLD  32(R9), Y11, Y11
	VPADDD   Y11, Y9, Y9

	ADDQ $32, R8
	ADDQ $64, R9
	DECQ AX
	JNZ  vpair

	MOVQ DI, R10
	VMOVDQU vifCBias<>(SB), Y15
	VMOVDQU vifCFFFF<>(SB), Y14

	// means: (sum + 128) >> 8
	VMOVDQU vifC128<>(SB), Y13
	VPADDD    Y13, Y0, Y0
	VPSRLD    $8, Y0, Y0
	VPADDD    Y13, Y1, Y1
	VPSRLD    $8, Y1, Y1
	VPACKUSDW Y1, Y0, Y0
	VPXOR     Y15, Y0, Y0
	VMOVDQU   Y0, (R10)(BX*1)
	ADDQ      DX, R10
	VPADDD    Y13, Y2, Y2
	VPSRLD    $8, Y2, Y2
	VPADDD    Y13, Y3, Y3
	VPSRLD    $8, Y3, Y3
	VPACKUSDW Y3, Y2, Y2
	VPXOR     Y15, Y2, Y2
	VMOVDQU   Y2, (R10)(BX*1)
	ADDQ      DX, R10

#define SPLIT(a, b) \
	VPAND     Y14, a, Y10; \
	VPAND     Y14, b, Y11; \
	VPACKUSDW Y11, Y10, Y10; \
	VPXOR     Y15, Y10, Y10; \
	VMOVDQU   Y10, (R10)(BX*1); \
	ADDQ      DX, R10; \
	VPSRLD    $16, a, a; \
	VPSRLD    $16, b, b; \
	VPACKUSDW b, a, a; \
	VPXOR     Y15, a, a; \
	VMOVDQU   a, (R10)(BX*1); \
	ADDQ      DX, R10

	SPLIT(Y4, Y5)
	SPLIT(Y6, Y7)
	SPLIT(Y8, Y9)

	ADDQ $32, BX
	CMPQ BX, CX
	JB   vblock
	VZEROUPPER
	RET

// func vifVert16AVX2(rows *[9][4]*uint16, taps *uint32, npairs int, planes *uint16, stride, n int)
//
// The vertical pass of scales 1 and 2 (samples below 2^16) for blocks of 8 columns, in
// 32-bit lanes: the means directly (their sums stay below 2^32), the moments split into
// 16-bit halves so that both filtered halves stay below 2^32 too; the rounded moment is
// then hi + ((lo + 2^15) >> 16), exactly (Σf·m + 2^15) >> 16. taps holds the npairs tap
// pair weights (vifPairTaps).
//
// Accumulators: Y0/Y1 means, Y2/Y3 ref² low/high, Y4/Y5 dis², Y6/Y7 ref·dis.
TEXT ·vifVert16AVX2(SB), NOSPLIT, $0-48
	MOVQ rows+0(FP), SI
	MOVQ taps+8(FP), R12
	MOVQ npairs+16(FP), R13
	MOVQ planes+24(FP), DI
	MOVQ stride+32(FP), DX
	MOVQ n+40(FP), CX
	SHLQ $1, CX
	XORQ BX, BX

// MOMACC adds f·(low halves) and f·(high halves) of the products in Y12 and Y13 (rows a
// and b of the pair) to lo and hi: with H = (a>>16) + (b>>16), the low halves sum to
// a + b - H<<16 (mod 2^32, and the true sum is below 2^17).
#define MOMACC(lo, hi) \
	VPSRLD  $16, Y12, Y14; \
	VPADDD  Y13, Y12, Y12; \
	VPSRLD  $16, Y13, Y13; \
	VPADDD  Y13, Y14, Y14; \
	VPSLLD  $16, Y14, Y13; \
	VPSUBD  Y13, Y12, Y12; \
	VPMULLD Y15, Y12, Y12; \
	VPADDD  Y12, lo, lo; \
	VPMULLD Y15, Y14, Y14; \
	VPADDD  Y14, hi, hi

// STORE8 packs the 8 dwords of y (each below 2^16; x is its low half) into 8 words,
// biases them and stores them at column BX of the plane at R10, then steps R10 to the
// next plane.
#define STORE8(y, x) \
	VEXTRACTI128 $1, y, X13; \
	VPACKUSDW    X13, x, x; \
	VPXOR        vifCBias<>(SB), x, x; \
	VMOVDQU      x, (R10)(BX*1); \
	ADDQ         DX, R10

// MOMOUT rounds a moment, lo/hi being its filtered halves, and stores its two halves.
#define MOMOUT(lo, hi, hix) \
	VPADDD vifC32768<>(SB), lo, lo; \
	VPSRLD $16, lo, lo; \
	VPADDD lo, hi, hi; \
	VPAND  vifCFFFF<>(SB), hi, Y12; \
	STORE8(Y12, X12); \
	VPSRLD $16, hi, hi; \
	STORE8(hi, hix)

w16block:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, R8
	MOVQ R12, R9
	MOVQ R13, AX

w16pair:
	MOVQ 0(R8), R10
	MOVQ 8(R8), R11
	VPMOVZXWD (R10)(BX*1), Y8
	VPMOVZXWD (R11)(BX*1), Y9
	MOVQ 16(R8), R10
	MOVQ 24(R8), R11
	VPMOVZXWD (R10)(BX*1), Y10
	VPMOVZXWD (R11)(BX*1), Y11
	VPBROADCASTD (R9), Y15
	VPADDD  Y9, Y8, Y12
	VPMULLD Y15, Y12, Y12
	VPADDD  Y12, Y0, Y0
	VPADDD  Y11, Y10, Y12
	VPMULLD Y15, Y12, Y12
	VPADDD  Y12, Y1, Y1
	VPMULLD Y8, Y8, Y12
	VPMULLD Y9, Y9, Y13
	MOMACC(Y2, Y3)
	VPMULLD Y10, Y10, Y12
	VPMULLD Y11, Y11, Y13
	MOMACC(Y4, Y5)
	VPMULLD Y10, Y8, Y12
	VPMULLD Y11, Y9, Y13
	MOMACC(Y6, Y7)
	ADDQ $32, R8
	ADDQ $4, R9
	DECQ AX
	JNZ  w16pair

	MOVQ DI, R10
	VPADDD vifC32768<>(SB), Y0, Y0
	VPSRLD $16, Y0, Y0
	STORE8(Y0, X0)
	VPADDD vifC32768<>(SB), Y1, Y1
	VPSRLD $16, Y1, Y1
	STORE8(Y1, X1)
	MOMOUT(Y2, Y3, X3)
	MOMOUT(Y4, Y5, X5)
	MOMOUT(Y6, Y7, X7)

	ADDQ $16, BX
	CMPQ BX, CX
	JB   w16block
	VZEROUPPER
	RET

// func vifSubVertAVX2(rows *[9][4]*uint16, taps *uint32, npairs int, outRef, outDis *uint16, n, shift int)
//
// The vertical pass of subsample (vifSubVertGo) for blocks of 8 columns, in 32-bit lanes:
// the sums of a tap pair's two rows times the pair's weight, for ref and dis; rounded,
// shifted, biased and stored as uint16.
TEXT ·vifSubVertAVX2(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), SI
	MOVQ taps+8(FP), R12
	MOVQ npairs+16(FP), R13
	MOVQ outRef+24(FP), DI
	MOVQ outDis+32(FP), DX
	MOVQ shift+48(FP), CX
	MOVQ CX, X13
	DECQ CX
	MOVQ $1, AX
	SHLQ CX, AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14
	VMOVDQU vifCBias<>(SB), X12
	MOVQ n+40(FP), CX
	SHLQ $1, CX
	XORQ BX, BX

svblock:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ SI, R8
	MOVQ R12, R9
	MOVQ R13, AX

svpair:
	MOVQ 0(R8), R10
	MOVQ 8(R8), R11
	VPMOVZXWD (R10)(BX*1), Y2
	VPMOVZXWD (R11)(BX*1), Y3
	VPADDD    Y3, Y2, Y2
	MOVQ 16(R8), R10
	MOVQ 24(R8), R11
	VPMOVZXWD (R10)(BX*1), Y4
	VPMOVZXWD (R11)(BX*1), Y5
	VPADDD    Y5, Y4, Y4
	VPBROADCASTD (R9), Y15
	VPMULLD Y15, Y2, Y2
	VPADDD  Y2, Y0, Y0
	VPMULLD Y15, Y4, Y4
	VPADDD  Y4, Y1, Y1
	ADDQ $32, R8
	ADDQ $4, R9
	DECQ AX
	JNZ  svpair

	VPADDD       Y14, Y0, Y0
	VPSRLD       X13, Y0, Y0
	VEXTRACTI128 $1, Y0, X2
	VPACKUSDW    X2, X0, X0
	VPXOR        X12, X0, X0
	VMOVDQU      X0, (DI)(BX*1)
	VPADDD       Y14, Y1, Y1
	VPSRLD       X13, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPACKUSDW    X2, X1, X1
	VPXOR        X12, X1, X1
	VMOVDQU      X1, (DX)(BX*1)
	ADDQ $16, BX
	CMPQ BX, CX
	JB   svblock
	VZEROUPPER
	RET

// func vifSubHorzAVX2(in, out *uint16, n int, taps *uint32, npairs int)
//
// The horizontal pass of subsample (vifSubHorzGo) for blocks of 8 outputs: a load at
// column 2j-half+2m times tap pair m gives, in lane i, the pair's share of output j+i, so
// the decimation by two comes from the pairwise multiply-add. in points at column 0 of
// the padded biased row.
TEXT ·vifSubHorzAVX2(SB), NOSPLIT, $0-40
	MOVQ in+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ n+16(FP), CX
	SHLQ $1, CX
	MOVQ taps+24(FP), R12
	MOVQ npairs+32(FP), R13
	LEAQ -2(R13)(R13*1), R8 // 2·half bytes
	SUBQ R8, SI
	VMOVDQU vifCSign<>(SB), Y14
	VMOVDQU vifC32768<>(SB), Y15
	XORQ BX, BX

shblock:
	VPXOR Y0, Y0, Y0
	MOVQ  R12, R9
	MOVQ  R13, AX
	LEAQ  (SI)(BX*2), R10

shpair:
	VMOVDQU  (R10), Y1
	VPMADDWD (R9), Y1, Y1
	VPADDD   Y1, Y0, Y0
	ADDQ $4, R10
	ADDQ $32, R9
	DECQ AX
	JNZ  shpair

	VPXOR        Y14, Y0, Y0
	VPADDD       Y15, Y0, Y0
	VPSRLD       $16, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKUSDW    X1, X0, X0
	VMOVDQU      X0, (DI)(BX*1)
	ADDQ $16, BX
	CMPQ BX, CX
	JB   shblock
	VZEROUPPER
	RET

// MOMENT recombines a moment from the biased sums of its low (lo) and high (hi) halves:
// dst = (hi ^ 2^31) + (((lo ^ 2^31) + 2^15) >> 16).
#define MOMENT(lo, hi, dst) \
	VPXOR  vifCSign<>(SB), lo, lo; \
	VPADDD vifC32768<>(SB), lo, lo; \
	VPSRLD $16, lo, lo; \
	VPXOR  vifCSign<>(SB), hi, hi; \
	VPADDD hi, lo, dst

// HIMUL sets dst to the rounded high halves of the 32x32-bit products a·b, lane by lane:
// (a·b + 2^31) >> 32. ao and bo hold a and b shifted right by 32 (the odd lanes); t is
// scratch.
#define HIMUL(a, b, ao, bo, t, dst) \
	VPMULUDQ  b, a, dst; \
	VPMULUDQ  bo, ao, t; \
	VPADDQ    vifCHalf<>(SB), dst, dst; \
	VPADDQ    vifCHalf<>(SB), t, t; \
	VPSRLQ    $32, dst, dst; \
	VPBLENDD  $0xAA, t, dst, dst

// LOG2 turns the 4 doubles of v (exact integers of at least 2^16) into
// log2Table[top 16 bits] + 2048·(biased exponent), as int64 lanes; the constant part of
// log2u64's 2048·k is left to the caller. t, m (mask) and g (gather target) are scratch.
#define LOG2(v, t, mx, my, gx) \
	VPSRLQ     $52, v, t; \
	VPSRLQ     $37, v, v; \
	VPAND      vifC7FFF<>(SB), v, v; \
	VPCMPEQD   my, my, my; \
	VPGATHERQD mx, (R11)(v*4), gx; \
	VPMOVZXDQ  gx, v; \
	VPSLLQ     $11, t, t; \
	VPADDQ     t, v, v

// HALF runs the float part of the statistic for 4 lanes: X0 the log-branch mask L, X1 the
// numerator mask N, X2 sigma1sq, X3 sigma2sq (clamped at 0), X4 sigma12. Adds to Y12
// (denLog) and Y13 (numLog). Uses Y5-Y11.
#define HALF \
	VCVTDQ2PD   X2, Y5; \
	VADDPD      vifC131072D<>(SB), Y5, Y6; \
	LOG2(Y6, Y7, X8, Y8, X9); \
	VPSUBQ      vifCDen<>(SB), Y6, Y6; \
	VPMOVSXDQ   X0, Y7; \
	VPAND       Y7, Y6, Y6; \
	VPADDQ      Y6, Y12, Y12; \
	VCVTDQ2PD   X4, Y6; \
	VADDPD      0(SP), Y5, Y7; \
	VDIVPD      Y7, Y6, Y7; \
	VMULPD      Y6, Y7, Y6; \
	VCVTDQ2PD   X3, Y8; \
	VSUBPD      Y6, Y8, Y8; \
	VCVTTPD2DQY Y8, X8; \
	VPXOR       X6, X6, X6; \
	VPMAXSD     X6, X8, X8; \
	VCVTDQ2PD   X8, Y8; \
	VADDPD      vifC131072D<>(SB), Y8, Y8; \
	VMINPD      vifC100D<>(SB), Y7, Y7; \
	VMULPD      Y7, Y7, Y7; \
	VMULPD      Y5, Y7, Y7; \
	VROUNDPD    $3, Y7, Y7; \
	VADDPD      Y8, Y7, Y7; \
	LOG2(Y7, Y9, X10, Y10, X11); \
	LOG2(Y8, Y9, X10, Y10, X11); \
	VPSUBQ      Y8, Y7, Y7; \
	VPMOVSXDQ   X1, Y8; \
	VPAND       Y8, Y7, Y7; \
	VPADDQ      Y7, Y13, Y13

// func vifHStatAVX2(planes *uint16, stride, n int, taps *uint32, npairs int, tab *uint32, eps float64, out *[16]int64)
//
// Per block of 16 output columns, twice (even columns, then odd ones): the horizontal
// filter of the eight planes (Y0-Y7) as npairs signed multiply-adds of neighbour pairs with
// tap pairs (taps holds npairs vectors of 8 copies of f[2m] | f[2m+1]<<16, the last tap
// zero for an odd count; lane i is column j+parity+2i), the five filtered values (Y0 mu1,
// Y1 mu2, Y2 xx, Y3 yy, Y4 xy), then the statistic of vifAccum.add on 8 lanes; its float
// part runs on doubles, 4 lanes at a time, rounded exactly as the Go code rounds it. The
// log2 of an exact integer double is read from its bits: the exponent gives k, the 16
// leading significand bits the table index. Accumulators: Y12 denLog, Y13 numLog, Y14
// numNonLog (int64 lanes), Y15 the count of log-branch samples (int32 lanes).
TEXT ·vifHStatAVX2(SB), NOSPLIT, $32-64
	MOVQ planes+0(FP), SI
	MOVQ stride+8(FP), DX
	MOVQ n+16(FP), CX
	SHLQ $1, CX
	MOVQ taps+24(FP), DI
	MOVQ npairs+32(FP), R15
	MOVQ tab+40(FP), R11
	VBROADCASTSD eps+48(FP), Y5
	VMOVDQU Y5, 0(SP)
	LEAQ -2(R15)(R15*1), R8 // 2·(npairs-1): bytes from the window start to the centre
	LEAQ (DX)(DX*2), R9     // 3·stride
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15
	XORQ BX, BX

hblock:
	XORQ R12, R12

hparity:
	MOVQ SI, R10
	ADDQ BX, R10
	ADDQ R12, R10
	SUBQ R8, R10
	LEAQ (R10)(DX*4), R13
	MOVQ DI, R14
	MOVQ R15, AX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7

hpair:
	VMOVDQU  (R14), Y9
	VPMADDWD (R10), Y9, Y8
	VPADDD   Y8, Y0, Y0
	VPMADDWD (R10)(DX*1), Y9, Y8
	VPADDD   Y8, Y1, Y1
	VPMADDWD (R10)(DX*2), Y9, Y8
	VPADDD   Y8, Y2, Y2
	VPMADDWD (R10)(R9*1), Y9, Y8
	VPADDD   Y8, Y3, Y3
	VPMADDWD (R13), Y9, Y8
	VPADDD   Y8, Y4, Y4
	VPMADDWD (R13)(DX*1), Y9, Y8
	VPADDD   Y8, Y5, Y5
	VPMADDWD (R13)(DX*2), Y9, Y8
	VPADDD   Y8, Y6, Y6
	VPMADDWD (R13)(R9*1), Y9, Y8
	VPADDD   Y8, Y7, Y7
	ADDQ $4, R10
	ADDQ $4, R13
	ADDQ $32, R14
	DECQ AX
	JNZ  hpair

	VPXOR vifCSign<>(SB), Y0, Y0
	VPXOR vifCSign<>(SB), Y1, Y1
	MOMENT(Y2, Y3, Y2)
	MOMENT(Y4, Y5, Y3)
	MOMENT(Y6, Y7, Y4)

	// sigma1sq = xx - mu1², sigma2sq = yy - mu2², sigma12 = xy - mu1·mu2 (rounded Q32 highs)
	VPSRLQ $32, Y0, Y6
	VPSRLQ $32, Y1, Y7
	HIMUL(Y0, Y0, Y6, Y6, Y8, Y5)
	VPSUBD Y5, Y2, Y2
	HIMUL(Y1, Y1, Y7, Y7, Y8, Y5)
	VPSUBD Y5, Y3, Y3
	HIMUL(Y0, Y1, Y6, Y7, Y8, Y5)
	VPSUBD Y5, Y4, Y4
	VPXOR   Y5, Y5, Y5
	VPMAXSD Y5, Y3, Y3

	// L = sigma1sq >= 2·65536; the other samples add sigma2sq to numNonLog
	VPCMPGTD vifC131071<>(SB), Y2, Y0
	VPSUBD   Y0, Y15, Y15
	VPANDN   Y3, Y0, Y6
	VPSRLQ   $32, Y6, Y7
	VPAND    vifCLow32<>(SB), Y6, Y6
	VPADDQ   Y6, Y14, Y14
	VPADDQ   Y7, Y14, Y14
	// N = L && sigma12 > 0 && sigma2sq > 0
	VPCMPGTD Y5, Y4, Y6
	VPCMPGTD Y5, Y3, Y7
	VPAND    Y7, Y6, Y6
	VPAND    Y0, Y6, Y1

	HALF
	VEXTRACTI128 $1, Y0, X0
	VEXTRACTI128 $1, Y1, X1
	VEXTRACTI128 $1, Y2, X2
	VEXTRACTI128 $1, Y3, X3
	VEXTRACTI128 $1, Y4, X4
	HALF

	ADDQ $2, R12
	CMPQ R12, $4
	JB   hparity
	ADDQ $32, BX
	CMPQ BX, CX
	JB   hblock

	MOVQ out+56(FP), DI
	VMOVDQU Y12, 0(DI)
	VMOVDQU Y13, 32(DI)
	VMOVDQU Y14, 64(DI)
	VPSRLQ  $32, Y15, Y5
	VPAND   vifCLow32<>(SB), Y15, Y15
	VPADDQ  Y5, Y15, Y15
	VMOVDQU Y15, 96(DI)
	VZEROUPPER
	RET

DATA vifVTaps<>+0(SB)/8, $0x01e901e901e901e9
DATA vifVTaps<>+8(SB)/8, $0x01e901e901e901e9
DATA vifVTaps<>+16(SB)/8, $0x01e901e901e901e9
DATA vifVTaps<>+24(SB)/8, $0x01e901e901e901e9
DATA vifVTaps<>+32(SB)/8, $0x000001e9000001e9
DATA vifVTaps<>+40(SB)/8, $0x000001e9000001e9
DATA vifVTaps<>+48(SB)/8, $0x000001e9000001e9
DATA vifVTaps<>+56(SB)/8, $0x000001e9000001e9
DATA vifVTaps<>+64(SB)/8, $0x03a703a703a703a7
DATA vifVTaps<>+72(SB)/8, $0x03a703a703a703a7
DATA vifVTaps<>+80(SB)/8, $0x03a703a703a703a7
DATA vifVTaps<>+88(SB)/8, $0x03a703a703a703a7
DATA vifVTaps<>+96(SB)/8, $0x000003a7000003a7
DATA vifVTaps<>+104(SB)/8, $0x000003a7000003a7
DATA vifVTaps<>+112(SB)/8, $0x000003a7000003a7
DATA vifVTaps<>+120(SB)/8, $0x000003a7000003a7
DATA vifVTaps<>+128(SB)/8, $0x0668066806680668
DATA vifVTaps<>+136(SB)/8, $0x0668066806680668
DATA vifVTaps<>+144(SB)/8, $0x0668066806680668
DATA vifVTaps<>+152(SB)/8, $0x0668066806680668
DATA vifVTaps<>+160(SB)/8, $0x0000066800000668
DATA vifVTaps<>+168(SB)/8, $0x0000066800000668
DATA vifVTaps<>+176(SB)/8, $0x0000066800000668
DATA vifVTaps<>+184(SB)/8, $0x0000066800000668
DATA vifVTaps<>+192(SB)/8, $0x0a500a500a500a50
DATA vifVTaps<>+200(SB)/8, $0x0a500a500a500a50
DATA vifVTaps<>+208(SB)/8, $0x0a500a500a500a50
DATA vifVTaps<>+216(SB)/8, $0x0a500a500a500a50
DATA vifVTaps<>+224(SB)/8, $0x00000a5000000a50
DATA vifVTaps<>+232(SB)/8, $0x00000a5000000a50
DATA vifVTaps<>+240(SB)/8, $0x00000a5000000a50
DATA vifVTaps<>+248(SB)/8, $0x00000a5000000a50
DATA vifVTaps<>+256(SB)/8, $0x0f380f380f380f38
DATA vifVTaps<>+264(SB)/8, $0x0f380f380f380f38
DATA vifVTaps<>+272(SB)/8, $0x0f380f380f380f38
DATA vifVTaps<>+280(SB)/8, $0x0f380f380f380f38
DATA vifVTaps<>+288(SB)/8, $0x00000f3800000f38
DATA vifVTaps<>+296(SB)/8, $0x00000f3800000f38
DATA vifVTaps<>+304(SB)/8, $0x00000f3800000f38
DATA vifVTaps<>+312(SB)/8, $0x00000f3800000f38
DATA vifVTaps<>+320(SB)/8, $0x149a149a149a149a
DATA vifVTaps<>+328(SB)/8, $0x149a149a149a149a
DATA vifVTaps<>+336(SB)/8, $0x149a149a149a149a
DATA vifVTaps<>+344(SB)/8, $0x149a149a149a149a
DATA vifVTaps<>+352(SB)/8, $0x0000149a0000149a
DATA vifVTaps<>+360(SB)/8, $0x0000149a0000149a
DATA vifVTaps<>+368(SB)/8, $0x0000149a0000149a
DATA vifVTaps<>+376(SB)/8, $0x0000149a0000149a
DATA vifVTaps<>+384(SB)/8, $0x1993199319931993
DATA vifVTaps<>+392(SB)/8, $0x1993199319931993
DATA vifVTaps<>+400(SB)/8, $0x1993199319931993
DATA vifVTaps<>+408(SB)/8, $0x1993199319931993
DATA vifVTaps<>+416(SB)/8, $0x0000199300001993
DATA vifVTaps<>+424(SB)/8, $0x0000199300001993
DATA vifVTaps<>+432(SB)/8, $0x0000199300001993
DATA vifVTaps<>+440(SB)/8, $0x0000199300001993
DATA vifVTaps<>+448(SB)/8, $0x1d1f1d1f1d1f1d1f
DATA vifVTaps<>+456(SB)/8, $0x1d1f1d1f1d1f1d1f
DATA vifVTaps<>+464(SB)/8, $0x1d1f1d1f1d1f1d1f
DATA vifVTaps<>+472(SB)/8, $0x1d1f1d1f1d1f1d1f
DATA vifVTaps<>+480(SB)/8, $0x00001d1f00001d1f
DATA vifVTaps<>+488(SB)/8, $0x00001d1f00001d1f
DATA vifVTaps<>+496(SB)/8, $0x00001d1f00001d1f
DATA vifVTaps<>+504(SB)/8, $0x00001d1f00001d1f
DATA vifVTaps<>+512(SB)/8, $0x0f340f340f340f34
DATA vifVTaps<>+520(SB)/8, $0x0f340f340f340f34
DATA vifVTaps<>+528(SB)/8, $0x0f340f340f340f34
DATA vifVTaps<>+536(SB)/8, $0x0f340f340f340f34
DATA vifVTaps<>+544(SB)/8, $0x00000f3400000f34
DATA vifVTaps<>+552(SB)/8, $0x00000f3400000f34
DATA vifVTaps<>+560(SB)/8, $0x00000f3400000f34
DATA vifVTaps<>+568(SB)/8, $0x00000f3400000f34
GLOBL vifVTaps<>(SB), RODATA|NOPTR, $576


DATA vifC128<>+0(SB)/8, $0x0000008000000080
DATA vifC128<>+8(SB)/8, $0x0000008000000080
DATA vifC128<>+16(SB)/8, $0x0000008000000080
DATA vifC128<>+24(SB)/8, $0x0000008000000080
GLOBL vifC128<>(SB), RODATA|NOPTR, $32

DATA vifCFFFF<>+0(SB)/8, $0x0000ffff0000ffff
DATA vifCFFFF<>+8(SB)/8, $0x0000ffff0000ffff
DATA vifCFFFF<>+16(SB)/8, $0x0000ffff0000ffff
DATA vifCFFFF<>+24(SB)/8, $0x0000ffff0000ffff
GLOBL vifCFFFF<>(SB), RODATA|NOPTR, $32

DATA vifCBias<>+0(SB)/8, $0x8000800080008000
DATA vifCBias<>+8(SB)/8, $0x8000800080008000
DATA vifCBias<>+16(SB)/8, $0x8000800080008000
DATA vifCBias<>+24(SB)/8, $0x8000800080008000
GLOBL vifCBias<>(SB), RODATA|NOPTR, $32

DATA vifCSign<>+0(SB)/8, $0x8000000080000000
DATA vifCSign<>+8(SB)/8, $0x8000000080000000
DATA vifCSign<>+16(SB)/8, $0x8000000080000000
DATA vifCSign<>+24(SB)/8, $0x8000000080000000
GLOBL vifCSign<>(SB), RODATA|NOPTR, $32

DATA vifC32768<>+0(SB)/8, $0x0000800000008000
DATA vifC32768<>+8(SB)/8, $0x0000800000008000
DATA vifC32768<>+16(SB)/8, $0x0000800000008000
DATA vifC32768<>+24(SB)/8, $0x0000800000008000
GLOBL vifC32768<>(SB), RODATA|NOPTR, $32

DATA vifC131071<>+0(SB)/8, $0x0001ffff0001ffff
DATA vifC131071<>+8(SB)/8, $0x0001ffff0001ffff
DATA vifC131071<>+16(SB)/8, $0x0001ffff0001ffff
DATA vifC131071<>+24(SB)/8, $0x0001ffff0001ffff
GLOBL vifC131071<>(SB), RODATA|NOPTR, $32

DATA vifCHalf<>+0(SB)/8, $0x0000000080000000
DATA vifCHalf<>+8(SB)/8, $0x0000000080000000
DATA vifCHalf<>+16(SB)/8, $0x0000000080000000
DATA vifCHalf<>+24(SB)/8, $0x0000000080000000
GLOBL vifCHalf<>(SB), RODATA|NOPTR, $32

DATA vifCLow32<>+0(SB)/8, $0x00000000ffffffff
DATA vifCLow32<>+8(SB)/8, $0x00000000ffffffff
DATA vifCLow32<>+16(SB)/8, $0x00000000ffffffff
DATA vifCLow32<>+24(SB)/8, $0x00000000ffffffff
GLOBL vifCLow32<>(SB), RODATA|NOPTR, $32

DATA vifC7FFF<>+0(SB)/8, $0x0000000000007fff
DATA vifC7FFF<>+8(SB)/8, $0x0000000000007fff
DATA vifC7FFF<>+16(SB)/8, $0x0000000000007fff
DATA vifC7FFF<>+24(SB)/8, $0x0000000000007fff
GLOBL vifC7FFF<>(SB), RODATA|NOPTR, $32

DATA vifCDen<>+0(SB)/8, $0x000000000020f800
DATA vifCDen<>+8(SB)/8, $0x000000000020f800
DATA vifCDen<>+16(SB)/8, $0x000000000020f800
DATA vifCDen<>+24(SB)/8, $0x000000000020f800
GLOBL vifCDen<>(SB), RODATA|NOPTR, $32

DATA vifC131072D<>+0(SB)/8, $0x4100000000000000
DATA vifC131072D<>+8(SB)/8, $0x4100000000000000
DATA vifC131072D<>+16(SB)/8, $0x4100000000000000
DATA vifC131072D<>+24(SB)/8, $0x4100000000000000
GLOBL vifC131072D<>(SB), RODATA|NOPTR, $32

DATA vifC100D<>+0(SB)/8, $0x4059000000000000
DATA vifC100D<>+8(SB)/8, $0x4059000000000000
DATA vifC100D<>+16(SB)/8, $0x4059000000000000
DATA vifC100D<>+24(SB)/8, $0x4059000000000000
GLOBL vifC100D<>(SB), RODATA|NOPTR, $32
