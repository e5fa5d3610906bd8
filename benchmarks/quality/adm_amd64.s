//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels of ADM's scale-0 DWT; see adm_dwt.go for the row layout and admDwtVertGo /
// admDwtHorzGo for the reference computations they reproduce exactly. Samples (at most
// 10 bits) and the int16 rows fit signed 16-bit lanes and the taps fit int16, so every
// filter is a pair of signed multiply-adds (vpmaddwd) with int32 sums that wrap exactly as
// the Go code's int32 arithmetic does.

// func admDwtVertAVX2(rows *[4]*uint16, lo, hi *int16, n, bpc int)
//
// 16 columns per iteration: rows 0/1 and 2/3 are interleaved word by word (columns 0-3
// and 8-11 in the low unpack, 4-7 and 12-15 in the high one), multiplied by the tap pairs,
// rounded, shifted by bpc, truncated to int16 (shift left then arithmetic right by 16),
// and packed back in column order.
TEXT ·admDwtVertAVX2(SB), NOSPLIT, $0-40
	MOVQ rows+0(FP), SI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ lo+8(FP), DI
	MOVQ hi+16(FP), DX
	MOVQ bpc+32(FP), CX
	MOVQ CX, X15            // shift count
	DECQ CX
	MOVQ $1, R12
	SHLQ CX, R12            // round = 1 << (bpc-1)
	MOVQ n+24(FP), CX
	SHLQ $1, CX
	MOVQ R12, R13
	IMULQ $-46341, R13      // round - 46342·round
	MOVQ R13, X12
	VPBROADCASTD X12, Y12   // constant of the low band
	MOVQ R12, X13
	VPBROADCASTD X13, Y13   // constant of the high band
	XORQ BX, BX

// BAND filters the interleaved pairs (p01lo, p23lo) and (p01hi, p23hi) with the tap pairs
// t01, t23, adds c, shifts by bpc, truncates to int16 and stores 16 columns at dst.
#define BAND(t01, t23, c, dst) \
	VPMADDWD  t01, Y2, Y0; \
	VPMADDWD  t23, Y4, Y1; \
	VPADDD    Y1, Y0, Y0; \
	VPADDD    c, Y0, Y0; \
	VPSRAD    X15, Y0, Y0; \
	VPSLLD    $16, Y0, Y0; \
	VPSRAD    $16, Y0, Y0; \
	VPMADDWD  t01, Y3, Y6; \
	VPMADDWD  t23, Y5, Y1; \
	VPADDD    Y1, Y6, Y6; \
	VPADDD    c, Y6, Y6; \
	VPSRAD    X15, Y6, Y6; \
	VPSLLD    $16, Y6, Y6; \
	VPSRAD    $16, Y6, Y6; \
	VPACKSSDW Y6, Y0, Y0; \
	VMOVDQU   Y0, (dst)(BX*1)

vloop:
	VMOVDQU    (R8)(BX*1), Y0
	VMOVDQU    (R9)(BX*1), Y1
	VPUNPCKLWD Y1, Y0, Y2
	VPUNPCKHWD Y1, Y0, Y3
	VMOVDQU    (R10)(BX*1), Y0
	VMOVDQU    (R11)(BX*1), Y1
	VPUNPCKLWD Y1, Y0, Y4
	VPUNPCKHWD Y1, Y0, Y5
	BAND(admL01<>(SB), admL23<>(SB), Y12, DI)
	BAND(admH01<>(SB), admH23<>(SB), Y13, DX)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   vloop
	VZEROUPPER
	RET

// func admDwtHorzAVX2(lo, hi *int16, a, v, h, d *int32, n int)
//
// 8 outputs per iteration. Output j reads columns 2j-1 .. 2j+2 of the padded rows (lo
// and hi point at column 0): a load at column 2j-1 multiplied by the pair (f0, f1) gives,
// in lane i, f0·r[2j-1+2i] + f1·r[2j+2i], and a load at 2j+1 with (f2, f3) the rest, so
// the stride-2 decimation falls out of the pairwise multiply-add. The byte offset of
// output j (4j) is also that of input column 2j.
TEXT ·admDwtHorzAVX2(SB), NOSPLIT, $0-56
	MOVQ lo+0(FP), SI
	MOVQ hi+8(FP), DI
	MOVQ a+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ h+32(FP), R10
	MOVQ d+40(FP), R11
	MOVQ n+48(FP), CX
	SHLQ $2, CX
	VMOVDQU admC32768<>(SB), Y15
	XORQ BX, BX

#define HBAND(t01, t23, dst) \
	VPMADDWD t01, Y0, Y2; \
	VPMADDWD t23, Y1, Y3; \
	VPADDD   Y3, Y2, Y2; \
	VPADDD   Y15, Y2, Y2; \
	VPSRAD   $16, Y2, Y2; \
	VMOVDQU  Y2, (dst)(BX*1)

hloop:
	VMOVDQU -2(SI)(BX*1), Y0
	VMOVDQU 2(SI)(BX*1), Y1
	HBAND(admL01<>(SB), admL23<>(SB), R8)
	HBAND(admH01<>(SB), admH23<>(SB), R9)
	VMOVDQU -2(DI)(BX*1), Y0
	VMOVDQU 2(DI)(BX*1), Y1
	HBAND(admL01<>(SB), admL23<>(SB), R10)
	HBAND(admH01<>(SB), admH23<>(SB), R11)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   hloop
	VZEROUPPER
	RET

// func admCsf0AVX2(src, dst, flt *int32, n int, irf, add, sh int)
//
// admCsf0Go over n samples, n a positive multiple of 8: the same int32 operations on 8
// lanes (vpmulld wraps like Go's int32 multiply), int16 truncation by shifting left and
// arithmetically right by 16.
TEXT ·admCsf0AVX2(SB), NOSPLIT, $0-56
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ flt+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	MOVQ irf+32(FP), AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	MOVQ add+40(FP), AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14
	MOVQ sh+48(FP), AX
	MOVQ AX, X13
	MOVQ $4369, AX
	MOVQ AX, X12
	VPBROADCASTD X12, Y12
	MOVQ $2048, AX
	MOVQ AX, X11
	VPBROADCASTD X11, Y11
	XORQ BX, BX

csfloop:
	VMOVDQU (SI)(BX*1), Y0
	VPMULLD Y15, Y0, Y0
	VPADDD  Y14, Y0, Y0
	VPSRAD  X13, Y0, Y0
	VPSLLD  $16, Y0, Y0
	VPSRAD  $16, Y0, Y0
	VMOVDQU Y0, (DI)(BX*1)
	VPABSD  Y0, Y0
	VPMULLD Y12, Y0, Y0
	VPADDD  Y11, Y0, Y0
	VPSRAD  $12, Y0, Y0
	VPSLLD  $16, Y0, Y0
	VPSRAD  $16, Y0, Y0
	VMOVDQU Y0, (DX)(BX*1)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   csfloop
	VZEROUPPER
	RET

// func admDecouple0AVX2(bands *[12]*int32, n int, lookup *int32, cos float64)
//
// decouple's scale-0 loop (admDecouple0Go) over n samples, n a positive multiple of 8;
// bands holds o h,v,d, t h,v,d, r h,v,d, ad h,v,d. Band values are within int16 (the
// scale-0 DWT's); the table index is masked to 16 bits all the same, so that no input can
// make the gather read outside admDivLookup.
//
// The angle test runs on doubles, 4 lanes at a time: the int16 products and their sums
// are exact there, so rounding them to float32 (vcvtpd2ps) rounds the exact integers once,
// as Go's float32(int64) does, and the scalings by 1/4096 are exact. The restoration gain
// k = (2^30/o · t + 2^14) >> 15, clamped to [0, 2^15], is computed in 64-bit lanes
// (vpmuldq on the even and odd lanes); clamping before the shift makes the shift logical.
// For o = 0 the table gives 0 where decouple16 uses 2^15, but both give rst = 0 and no
// gain limit. The gain limit itself is integer: rst·100 and t are exact in float64, so
// math.Min/Max of them are vpminsd/vpmaxsd, chosen by the sign of o when k > 0.
TEXT ·admDecouple0AVX2(SB), NOSPLIT, $32-32
	MOVQ bands+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	MOVQ lookup+16(FP), DX
	VBROADCASTSD cos+24(FP), Y0
	VMOVUPD Y0, 0(SP)
	VPXOR Y9, Y9, Y9
	XORQ BX, BX

// ANGLE computes the angle flags of 4 samples at byte offset off into the dword masks xout.
#define ANGLE(off, xout) \
	MOVQ       0(SI), R8; \
	MOVQ       8(SI), R9; \
	MOVQ       24(SI), R10; \
	MOVQ       32(SI), R11; \
	VCVTDQ2PD  off(R8)(BX*1), Y0; \
	VCVTDQ2PD  off(R9)(BX*1), Y1; \
	VCVTDQ2PD  off(R10)(BX*1), Y2; \
	VCVTDQ2PD  off(R11)(BX*1), Y3; \
	VMULPD     Y2, Y0, Y4; \
	VMULPD     Y3, Y1, Y5; \
	VADDPD     Y5, Y4, Y4; \
	VMULPD     Y0, Y0, Y5; \
	VMULPD     Y1, Y1, Y6; \
	VADDPD     Y6, Y5, Y5; \
	VMULPD     Y2, Y2, Y6; \
	VMULPD     Y3, Y3, Y7; \
	VADDPD     Y7, Y6, Y6; \
	VCVTPD2PSY Y4, X4; \
	VCVTPS2PD  X4, Y4; \
	VCVTPD2PSY Y5, X5; \
	VCVTPS2PD  X5, Y5; \
	VCVTPD2PSY Y6, X6; \
	VCVTPS2PD  X6, Y6; \
	VMULPD     admP2m12<>(SB), Y4, Y4; \
	VMULPD     admP2m12<>(SB), Y5, Y5; \
	VMULPD     admP2m12<>(SB), Y6, Y6; \
	VMULPD     Y4, Y4, Y7; \
	VMULPD     0(SP), Y5, Y5; \
	VMULPD     Y6, Y5, Y5; \
	VCMPPD     $0x1D, Y5, Y7, Y7; \
	VXORPD     Y6, Y6, Y6; \
	VCMPPD     $0x1D, Y6, Y4, Y4; \
	VANDPD     Y7, Y4, Y4; \
	VEXTRACTF128 $1, Y4, X5; \
	VSHUFPS    $0x88, X5, X4, xout

// CLAMPK turns the 64-bit products in y into k = min(max(y + 2^14, 0), 2^30) >> 15.
#define CLAMPK(y) \
	VPADDQ    admQ16384<>(SB), y, y; \
	VPCMPGTQ  Y9, y, Y8; \
	VPAND     Y8, y, y; \
	VPCMPGTQ  admQ2p30<>(SB), y, Y8; \
	VPBLENDVB Y8, admQ2p30<>(SB), y, y; \
	VPSRLQ    $15, y, y

// TRUNC16 truncates the dwords of y to int16, sign-extended.
#define TRUNC16(y) \
	VPSLLD $16, y, y; \
	VPSRAD $16, y, y

// BAND decouples 8 samples of band b (0 h, 1 v, 2 d); Y15 holds the angle flags.
#define DBAND(b) \
	MOVQ        (8*b)(SI), R8; \
	MOVQ        (24+8*b)(SI), R9; \
	MOVQ        (48+8*b)(SI), R10; \
	MOVQ        (72+8*b)(SI), R11; \
	VMOVDQU     (R8)(BX*1), Y0; \
	VMOVDQU     (R9)(BX*1), Y1; \
	VPADDD      admC32768<>(SB), Y0, Y2; \
	VPAND       admDFFFF<>(SB), Y2, Y2; \
	VPCMPEQD    Y3, Y3, Y3; \
	VPGATHERDD  Y3, (DX)(Y2*4), Y4; \
	VPMULDQ     Y1, Y4, Y5; \
	VPSRLQ      $32, Y4, Y6; \
	VPSRLQ      $32, Y1, Y7; \
	VPMULDQ     Y7, Y6, Y6; \
	CLAMPK(Y5); \
	CLAMPK(Y6); \
	VPSLLQ      $32, Y6, Y6; \
	VPOR        Y6, Y5, Y5; \
	VPMULLD     Y0, Y5, Y6; \
	VPADDD      admD16384<>(SB), Y6, Y6; \
	VPSRAD      $15, Y6, Y6; \
	TRUNC16(Y6); \
	VPCMPGTD    Y9, Y5, Y7; \
	VPCMPGTD    Y9, Y0, Y8; \
	VPAND       Y7, Y8, Y8; \
	VPCMPGTD    Y0, Y9, Y2; \
	VPAND       Y7, Y2, Y2; \
	VPMULLD     admD100<>(SB), Y6, Y3; \
	VPMINSD     Y1, Y3, Y4; \
	VPMAXSD     Y1, Y3, Y3; \
	VPBLENDVB   Y2, Y3, Y6, Y7; \
	VPBLENDVB   Y8, Y4, Y7, Y7; \
	TRUNC16(Y7); \
	VPBLENDVB   Y15, Y7, Y6, Y6; \
	VMOVDQU     Y6, (R10)(BX*1); \
	VPSUBD      Y6, Y1, Y1; \
	TRUNC16(Y1); \
	VMOVDQU     Y1, (R11)(BX*1)

decloop:
	ANGLE(0, X14)
	ANGLE(16, X13)
	VINSERTI128 $1, X13, Y14, Y15
	DBAND(0)
	DBAND(1)
	DBAND(2)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   decloop
	VZEROUPPER
	RET

// func admCm0AVX2(rows *[7]*int32, n int, params *admCm0Params, out *[3]int64) bool
//
// admCm0RowGo over n samples, n a positive multiple of 8; rows holds nb, the three masker
// rows and the three source rows. It is exact when every threshold lies in [0, 2^19) and
// every int32 product v·irf has a non-negative absolute value (both hold for the int16
// bands of real pictures): then thr<<sub < 2^31, x = max(|v·irf| - thr<<sub, 0) < 2^31
// fits int32 lanes, x² < 2^62 needs no sign, the int32 truncation of the squared term is
// the low half vpmuldq reads, and xsq·x is an exact signed 64-bit product; the cube's
// arithmetic shift is emulated as ((v ^ s) >> k) ^ s with s the sign mask. It returns
// false (and its sums are to be ignored) when the condition fails for some sample.
TEXT ·admCm0AVX2(SB), NOSPLIT, $0-33
	MOVQ rows+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	MOVQ params+16(FP), DI
	LEAQ 64(DI), R15
	LEAQ 128(DI), DX
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 40(SI), R13
	MOVQ 48(SI), R14
	VPXOR Y9, Y9, Y9
	VPXOR Y11, Y11, Y11
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	VPXOR Y14, Y14, Y14
	XORQ BX, BX

// MASK adds int16((8738·|m| + 2048) >> 12) of the masker row at r to Y15.
#define MASK(r) \
	VMOVDQU (r)(BX*1), Y0; \
	VPABSD  Y0, Y0; \
	VPMULLD admD8738<>(SB), Y0, Y0; \
	VPADDD  admD2048<>(SB), Y0, Y0; \
	VPSRAD  $12, Y0, Y0; \
	VPSLLD  $16, Y0, Y0; \
	VPSRAD  $16, Y0, Y0; \
	VPADDD  Y0, Y15, Y15

// CUBE adds the pooled terms of the 4 samples in the even dwords of Y0 to acc, with the
// band constants at P.
#define CUBE(P, acc) \
	VPMULUDQ     Y0, Y0, Y2; \
	VPBROADCASTQ 16(P), Y3; \
	VPADDQ       Y3, Y2, Y2; \
	VPSRLQ       24(P), Y2, Y2; \
	VPMULDQ      Y0, Y2, Y2; \
	VPBROADCASTQ 32(P), Y3; \
	VPADDQ       Y3, Y2, Y2; \
	VPCMPGTQ     Y2, Y9, Y4; \
	VPXOR        Y4, Y2, Y2; \
	VPSRLQ       40(P), Y2, Y2; \
	VPXOR        Y4, Y2, Y2; \
	VPADDQ       Y2, acc, acc

// CMBAND pools 8 samples of the source row at r into acc, with the band constants at P.
#define CMBAND(r, P, acc) \
	VMOVDQU      (r)(BX*1), Y0; \
	VPBROADCASTD 0(P), Y1; \
	VPMULLD      Y1, Y0, Y0; \
	VPABSD       Y0, Y0; \
	VPOR         Y0, Y10, Y10; \
	VPSLLD       8(P), Y15, Y1; \
	VPSUBD       Y1, Y0, Y0; \
	VPMAXSD      Y9, Y0, Y0; \
	CUBE(P, acc); \
	VPSRLQ       $32, Y0, Y0; \
	CUBE(P, acc)

cmloop:
	VMOVDQU (R8)(BX*1), Y15
	MASK(R9)
	MASK(R10)
	MASK(R11)
	VPSRLD  $19, Y15, Y0
	VPOR    Y0, Y11, Y11
	VPXOR   Y10, Y10, Y10
	CMBAND(R12, DI, Y12)
	CMBAND(R13, R15, Y13)
	CMBAND(R14, DX, Y14)
	VPSRAD  $31, Y10, Y10
	VPOR    Y10, Y11, Y11
	ADDQ $32, BX
	CMPQ BX, CX
	JB   cmloop

	MOVQ out+24(FP), DI
	VEXTRACTI128 $1, Y12, X0
	VPADDQ       X0, X12, X12
	VPSHUFD      $0x4E, X12, X0
	VPADDQ       X0, X12, X12
	VMOVQ        X12, 0(DI)
	VEXTRACTI128 $1, Y13, X0
	VPADDQ       X0, X13, X13
	VPSHUFD      $0x4E, X13, X0
	VPADDQ       X0, X13, X13
	VMOVQ        X13, 8(DI)
	VEXTRACTI128 $1, Y14, X0
	VPADDQ       X0, X14, X14
	VPSHUFD      $0x4E, X14, X0
	VPADDQ       X0, X14, X14
	VMOVQ        X14, 16(DI)
	VPTEST Y11, Y11
	SETEQ  ret+32(FP)
	VZEROUPPER
	RET

// func admDwtNVertAVX2(rows *[4]*int32, lo, hi *int32, n int, round int64, shift int)
//
// admDwtNVertGo over columns [0, n), n a positive multiple of 8. The 4-tap sums need 64
// bits: vpmuldq multiplies the even dwords (and, after a 32-bit shift, the odd ones) by
// the taps. The results are int32 truncations of the shifted sums, and bits 0-31 of a
// right shift by at most 16 are the same whether it is logical or arithmetic, so a
// logical shift serves. Y0-Y3 hold the even lanes of the rows, Y4-Y7 the odd ones.
TEXT ·admDwtNVertAVX2(SB), NOSPLIT, $0-48
	MOVQ rows+0(FP), SI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ lo+8(FP), DI
	MOVQ hi+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	VPBROADCASTQ round+32(FP), Y14
	MOVQ shift+40(FP), AX
	MOVQ AX, X15
	XORQ BX, BX

// SUM4 sets dst to the 4-tap sum of the lanes in a, b, c, d (64-bit), rounded and shifted.
#define SUM4(t0, t1, t2, t3, a, b, c, d, dst, tmp) \
	VPMULDQ t0, a, dst; \
	VPMULDQ t1, b, tmp; \
	VPADDQ  tmp, dst, dst; \
	VPMULDQ t2, c, tmp; \
	VPADDQ  tmp, dst, dst; \
	VPMULDQ t3, d, tmp; \
	VPADDQ  tmp, dst, dst; \
	VPADDQ  Y14, dst, dst; \
	VPSRLQ  X15, dst, dst

// VBANDN filters 8 columns with one tap set and stores them at dst.
#define VBANDN(t0, t1, t2, t3, dst) \
	SUM4(t0, t1, t2, t3, Y0, Y1, Y2, Y3, Y8, Y9); \
	SUM4(t0, t1, t2, t3, Y4, Y5, Y6, Y7, Y10, Y9); \
	VPSLLQ   $32, Y10, Y10; \
	VPBLENDD $0xAA, Y10, Y8, Y8; \
	VMOVDQU  Y8, (dst)(BX*1)

dnvloop:
	VMOVDQU (R8)(BX*1), Y0
	VMOVDQU (R9)(BX*1), Y1
	VMOVDQU (R10)(BX*1), Y2
	VMOVDQU (R11)(BX*1), Y3
	VPSRLQ  $32, Y0, Y4
	VPSRLQ  $32, Y1, Y5
	VPSRLQ  $32, Y2, Y6
	VPSRLQ  $32, Y3, Y7
	VBANDN(admTL0<>(SB), admTL1<>(SB), admTL2<>(SB), admTL3<>(SB), DI)
	VBANDN(admTH0<>(SB), admTH1<>(SB), admTH2<>(SB), admTH3<>(SB), DX)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   dnvloop
	VZEROUPPER
	RET

// func admDwtNHorzAVX2(lo, hi *int32, a, v, h, d *int32, n int, round int64, shift int)
//
// admDwtNHorzGo over outputs [0, n), n a positive multiple of 4; lo and hi point at column
// 0 of the padded rows. A load at column 2j-1 holds, in its even dwords, the first tap's
// samples of outputs j..j+3 and, in its odd dwords, the second's; a load at 2j+1 holds the
// other two. vpermd gathers the 4 int32 results from the even dwords.
TEXT ·admDwtNHorzAVX2(SB), NOSPLIT, $0-72
	MOVQ lo+0(FP), SI
	MOVQ hi+8(FP), DI
	MOVQ a+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ h+32(FP), R10
	MOVQ d+40(FP), R11
	MOVQ n+48(FP), CX
	SHLQ $2, CX
	VPBROADCASTQ round+56(FP), Y14
	MOVQ shift+64(FP), AX
	MOVQ AX, X15
	VMOVDQU admPermEven<>(SB), Y13
	XORQ BX, BX

// HBANDN filters 4 outputs with one tap set from Y0-Y3 and stores them at dst.
#define HBANDN(t0, t1, t2, t3, dst) \
	SUM4(t0, t1, t2, t3, Y0, Y1, Y2, Y3, Y8, Y9); \
	VPERMD  Y8, Y13, Y8; \
	VMOVDQU X8, (dst)(BX*1)

// HLOAD loads the samples of outputs j..j+3 from the padded row at r into Y0-Y3.
#define HLOAD(r) \
	VMOVDQU -4(r)(BX*2), Y0; \
	VMOVDQU 4(r)(BX*2), Y2; \
	VPSRLQ  $32, Y0, Y1; \
	VPSRLQ  $32, Y2, Y3

dnhloop:
	HLOAD(SI)
	HBANDN(admTL0<>(SB), admTL1<>(SB), admTL2<>(SB), admTL3<>(SB), R8)
	HBANDN(admTH0<>(SB), admTH1<>(SB), admTH2<>(SB), admTH3<>(SB), R9)
	HLOAD(DI)
	HBANDN(admTL0<>(SB), admTL1<>(SB), admTL2<>(SB), admTL3<>(SB), R10)
	HBANDN(admTH0<>(SB), admTH1<>(SB), admTH2<>(SB), admTH3<>(SB), R11)
	ADDQ $16, BX
	CMPQ BX, CX
	JB   dnhloop
	VZEROUPPER
	RET

// func admCube0AVX2(row *int32, n int) uint64
//
// admCube0RowGo over n samples, n a positive multiple of 8: v = |x| & 0xffff, v² fits a
// dword, v²·v (below 2^48) is a vpmuludq of the even and, shifted, the odd dwords.
TEXT ·admCube0AVX2(SB), NOSPLIT, $0-24
	MOVQ row+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	VMOVDQU admDFFFF<>(SB), Y15
	VPXOR   Y14, Y14, Y14
	XORQ    BX, BX

cubeloop:
	VMOVDQU  (SI)(BX*1), Y0
	VPABSD   Y0, Y0
	VPAND    Y15, Y0, Y0
	VPMULLD  Y0, Y0, Y1
	VPMULUDQ Y0, Y1, Y2
	VPADDQ   Y2, Y14, Y14
	VPSRLQ   $32, Y0, Y0
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y0, Y1, Y2
	VPADDQ   Y2, Y14, Y14
	ADDQ $32, BX
	CMPQ BX, CX
	JB   cubeloop

	VEXTRACTI128 $1, Y14, X0
	VPADDQ       X0, X14, X14
	VPSHUFD      $0x4E, X14, X0
	VPADDQ       X0, X14, X14
	VMOVQ        X14, ret+16(FP)
	VZEROUPPER
	RET

// func admSum9AVX2(rows *[9]*int32, col *int32, n int)
//
// admSum9Go over n columns (a positive multiple of 8) from the given starts.
TEXT ·admSum9AVX2(SB), NOSPLIT, $0-24
	MOVQ rows+0(FP), SI
	MOVQ col+8(FP), DI
	MOVQ n+16(FP), CX
	SHLQ $2, CX
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 40(SI), R13
	MOVQ 48(SI), R14
	MOVQ 56(SI), R15
	MOVQ 64(SI), DX
	XORQ BX, BX

sum9loop:
	VMOVDQU (R8)(BX*1), Y0
	VPADDD  (R9)(BX*1), Y0, Y0
	VMOVDQU (R10)(BX*1), Y1
	VPADDD  (R11)(BX*1), Y1, Y1
	VMOVDQU (R12)(BX*1), Y2
	VPADDD  (R13)(BX*1), Y2, Y2
	VMOVDQU (R14)(BX*1), Y3
	VPADDD  (R15)(BX*1), Y3, Y3
	VPADDD  (DX)(BX*1), Y0, Y0
	VPADDD  Y1, Y0, Y0
	VPADDD  Y3, Y2, Y2
	VPADDD  Y2, Y0, Y0
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   sum9loop
	VZEROUPPER
	RET

// func admNb3AVX2(col *int32, c *[3]*int32, nb *int32, n int)
//
// admNb3Go over n columns (a positive multiple of 8) from the given starts; col[-1] and
// col[n] are read.
TEXT ·admNb3AVX2(SB), NOSPLIT, $0-32
	MOVQ col+0(FP), SI
	MOVQ c+8(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ nb+16(FP), DI
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ BX, BX

nb3loop:
	VMOVDQU -4(SI)(BX*1), Y0
	VPADDD  (SI)(BX*1), Y0, Y0
	VPADDD  4(SI)(BX*1), Y0, Y0
	VPSUBD  (R8)(BX*1), Y0, Y0
	VPSUBD  (R9)(BX*1), Y0, Y0
	VPSUBD  (R10)(BX*1), Y0, Y0
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ $32, BX
	CMPQ BX, CX
	JB   nb3loop
	VZEROUPPER
	RET

DATA admL01<>+0(SB)/8, $0x6b133dd26b133dd2
DATA admL01<>+8(SB)/8, $0x6b133dd26b133dd2
DATA admL01<>+16(SB)/8, $0x6b133dd26b133dd2
DATA admL01<>+24(SB)/8, $0x6b133dd26b133dd2
GLOBL admL01<>(SB), RODATA|NOPTR, $32

DATA admL23<>+0(SB)/8, $0xef701cb1ef701cb1
DATA admL23<>+8(SB)/8, $0xef701cb1ef701cb1
DATA admL23<>+16(SB)/8, $0xef701cb1ef701cb1
DATA admL23<>+24(SB)/8, $0xef701cb1ef701cb1
GLOBL admL23<>(SB), RODATA|NOPTR, $32

DATA admH01<>+0(SB)/8, $0xe34fef70e34fef70
DATA admH01<>+8(SB)/8, $0xe34fef70e34fef70
DATA admH01<>+16(SB)/8, $0xe34fef70e34fef70
DATA admH01<>+24(SB)/8, $0xe34fef70e34fef70
GLOBL admH01<>(SB), RODATA|NOPTR, $32

DATA admH23<>+0(SB)/8, $0xc22e6b13c22e6b13
DATA admH23<>+8(SB)/8, $0xc22e6b13c22e6b13
DATA admH23<>+16(SB)/8, $0xc22e6b13c22e6b13
DATA admH23<>+24(SB)/8, $0xc22e6b13c22e6b13
GLOBL admH23<>(SB), RODATA|NOPTR, $32

DATA admC32768<>+0(SB)/8, $0x0000800000008000
DATA admC32768<>+8(SB)/8, $0x0000800000008000
DATA admC32768<>+16(SB)/8, $0x0000800000008000
DATA admC32768<>+24(SB)/8, $0x0000800000008000
GLOBL admC32768<>(SB), RODATA|NOPTR, $32
DATA admQ16384<>+0(SB)/8, $0x0000000000004000
DATA admQ16384<>+8(SB)/8, $0x0000000000004000
DATA admQ16384<>+16(SB)/8, $0x0000000000004000
DATA admQ16384<>+24(SB)/8, $0x0000000000004000
GLOBL admQ16384<>(SB), RODATA|NOPTR, $32

DATA admQ2p30<>+0(SB)/8, $0x0000000040000000
DATA admQ2p30<>+8(SB)/8, $0x0000000040000000
DATA admQ2p30<>+16(SB)/8, $0x0000000040000000
DATA admQ2p30<>+24(SB)/8, $0x0000000040000000
GLOBL admQ2p30<>(SB), RODATA|NOPTR, $32

DATA admD16384<>+0(SB)/8, $0x0000400000004000
DATA admD16384<>+8(SB)/8, $0x0000400000004000
DATA admD16384<>+16(SB)/8, $0x0000400000004000
DATA admD16384<>+24(SB)/8, $0x0000400000004000
GLOBL admD16384<>(SB), RODATA|NOPTR, $32

DATA admD100<>+0(SB)/8, $0x0000006400000064
DATA admD100<>+8(SB)/8, $0x0000006400000064
DATA admD100<>+16(SB)/8, $0x0000006400000064
DATA admD100<>+24(SB)/8, $0x0000006400000064
GLOBL admD100<>(SB), RODATA|NOPTR, $32

DATA admP2m12<>+0(SB)/8, $0x3f30000000000000
DATA admP2m12<>+8(SB)/8, $0x3f30000000000000
DATA admP2m12<>+16(SB)/8, $0x3f30000000000000
DATA admP2m12<>+24(SB)/8, $0x3f30000000000000
GLOBL admP2m12<>(SB), RODATA|NOPTR, $32

DATA admD8738<>+0(SB)/8, $0x0000222200002222
DATA admD8738<>+8(SB)/8, $0x0000222200002222
DATA admD8738<>+16(SB)/8, $0x0000222200002222
DATA admD8738<>+24(SB)/8, $0x0000222200002222
GLOBL admD8738<>(SB), RODATA|NOPTR, $32

DATA admD2048<>+0(SB)/8, $0x0000080000000800
DATA admD2048<>+8(SB)/8, $0x0000080000000800
DATA admD2048<>+16(SB)/8, $0x0000080000000800
DATA admD2048<>+24(SB)/8, $0x0000080000000800
GLOBL admD2048<>(SB), RODATA|NOPTR, $32

DATA admTL0<>+0(SB)/8, $0x00003dd200003dd2
DATA admTL0<>+8(SB)/8, $0x00003dd200003dd2
DATA admTL0<>+16(SB)/8, $0x00003dd200003dd2
DATA admTL0<>+24(SB)/8, $0x00003dd200003dd2
GLOBL admTL0<>(SB), RODATA|NOPTR, $32

DATA admTL1<>+0(SB)/8, $0x00006b1300006b13
DATA admTL1<>+8(SB)/8, $0x00006b1300006b13
DATA admTL1<>+16(SB)/8, $0x00006b1300006b13
DATA admTL1<>+24(SB)/8, $0x00006b1300006b13
GLOBL admTL1<>(SB), RODATA|NOPTR, $32

DATA admTL2<>+0(SB)/8, $0x00001cb100001cb1
DATA admTL2<>+8(SB)/8, $0x00001cb100001cb1
DATA admTL2<>+16(SB)/8, $0x00001cb100001cb1
DATA admTL2<>+24(SB)/8, $0x00001cb100001cb1
GLOBL admTL2<>(SB), RODATA|NOPTR, $32

DATA admTL3<>+0(SB)/8, $0xffffef70ffffef70
DATA admTL3<>+8(SB)/8, $0xffffef70ffffef70
DATA admTL3<>+16(SB)/8, $0xffffef70ffffef70
DATA admTL3<>+24(SB)/8, $0xffffef70ffffef70
GLOBL admTL3<>(SB), RODATA|NOPTR, $32

DATA admTH0<>+0(SB)/8, $0xffffef70ffffef70
DATA admTH0<>+8(SB)/8, $0xffffef70ffffef70
DATA admTH0<>+16(SB)/8, $0xffffef70ffffef70
DATA admTH0<>+24(SB)/8, $0xffffef70ffffef70
GLOBL admTH0<>(SB), RODATA|NOPTR, $32

DATA admTH1<>+0(SB)/8, $0xffffe34fffffe34f
DATA admTH1<>+8(SB)/8, $0xffffe34fffffe34f
DATA admTH1<>+16(SB)/8, $0xffffe34fffffe34f
DATA admTH1<>+24(SB)/8, $0xffffe34fffffe34f
GLOBL admTH1<>(SB), RODATA|NOPTR, $32

DATA admTH2<>+0(SB)/8, $0x00006b1300006b13
DATA admTH2<>+8(SB)/8, $0x00006b1300006b13
DATA admTH2<>+16(SB)/8, $0x00006b1300006b13
DATA admTH2<>+24(SB)/8, $0x00006b1300006b13
GLOBL admTH2<>(SB), RODATA|NOPTR, $32

DATA admTH3<>+0(SB)/8, $0xffffc22effffc22e
DATA admTH3<>+8(SB)/8, $0xffffc22effffc22e
DATA admTH3<>+16(SB)/8, $0xffffc22effffc22e
DATA admTH3<>+24(SB)/8, $0xffffc22effffc22e
GLOBL admTH3<>(SB), RODATA|NOPTR, $32

DATA admPermEven<>+0(SB)/8, $0x0000000200000000
DATA admPermEven<>+8(SB)/8, $0x0000000600000004
DATA admPermEven<>+16(SB)/8, $0x0000000200000000
DATA admPermEven<>+24(SB)/8, $0x0000000600000004
GLOBL admPermEven<>(SB), RODATA|NOPTR, $32

DATA admDFFFF<>+0(SB)/8, $0x0000ffff0000ffff
DATA admDFFFF<>+8(SB)/8, $0x0000ffff0000ffff
DATA admDFFFF<>+16(SB)/8, $0x0000ffff0000ffff
DATA admDFFFF<>+24(SB)/8, $0x0000ffff0000ffff
GLOBL admDFFFF<>(SB), RODATA|NOPTR, $32
