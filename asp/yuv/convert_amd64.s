#include "textflag.h"

// Constants of convertRows4 (see yuv.go for the formulas): word lanes hold the B and R
// (even, odd) or G and A channels of a pixel, dword lanes the sums.
DATA maskFF<>+0(SB)/8, $0x00ff00ff00ff00ff
DATA maskFF<>+8(SB)/8, $0x00ff00ff00ff00ff
GLOBL maskFF<>(SB), RODATA|NOPTR, $16
// Y: 25 B + 66 R, 129 G + 0 A
DATA lumaBR<>+0(SB)/8, $0x0042001900420019
DATA lumaBR<>+8(SB)/8, $0x0042001900420019
GLOBL lumaBR<>(SB), RODATA|NOPTR, $16
DATA lumaGA<>+0(SB)/8, $0x0000008100000081
DATA lumaGA<>+8(SB)/8, $0x0000008100000081
GLOBL lumaGA<>(SB), RODATA|NOPTR, $16
// 128 + 16<<8
DATA lumaRound<>+0(SB)/8, $0x0000108000001080
DATA lumaRound<>+8(SB)/8, $0x0000108000001080
GLOBL lumaRound<>(SB), RODATA|NOPTR, $16
// Cb: 112 B - 38 R, -74 G
DATA cbBR<>+0(SB)/8, $0xffda0070ffda0070
DATA cbBR<>+8(SB)/8, $0xffda0070ffda0070
GLOBL cbBR<>(SB), RODATA|NOPTR, $16
DATA cbGA<>+0(SB)/8, $0x0000ffb60000ffb6
DATA cbGA<>+8(SB)/8, $0x0000ffb60000ffb6
GLOBL cbGA<>(SB), RODATA|NOPTR, $16
// Cr: -18 B + 112 R, -94 G
DATA crBR<>+0(SB)/8, $0x0070ffee0070ffee
DATA crBR<>+8(SB)/8, $0x0070ffee0070ffee
GLOBL crBR<>(SB), RODATA|NOPTR, $16
DATA crGA<>+0(SB)/8, $0x0000ffa20000ffa2
DATA crGA<>+8(SB)/8, $0x0000ffa20000ffa2
GLOBL crGA<>(SB), RODATA|NOPTR, $16
// 512 + 128<<10
DATA chromaRound<>+0(SB)/8, $0x0002020000020200
DATA chromaRound<>+8(SB)/8, $0x0002020000020200
GLOBL chromaRound<>(SB), RODATA|NOPTR, $16

// func convertRows4(y0, y1, cb, cr, s0, s1 *byte, groups int)
// Converts groups×4 pixels of two BGRA rows: 4 luma samples per row and 2 chroma pairs per
// group, with SSE2 only (the amd64 baseline).
TEXT ·convertRows4(SB), NOSPLIT, $0-56
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ cb+16(FP), R10
	MOVQ cr+24(FP), R11
	MOVQ s0+32(FP), SI
	MOVQ s1+40(FP), DI
	MOVQ groups+48(FP), CX
	TESTQ CX, CX
	JLE done
	MOVOU maskFF<>(SB), X15
	MOVOU lumaBR<>(SB), X14
	MOVOU lumaGA<>(SB), X13
	MOVOU cbBR<>(SB), X12
	MOVOU cbGA<>(SB), X11
	MOVOU crBR<>(SB), X10
	MOVOU crGA<>(SB), X9
	MOVOU lumaRound<>(SB), X8
	MOVOU chromaRound<>(SB), X7

loop:
	MOVOU (SI), X0
	MOVOU (DI), X2
	MOVO  X0, X1
	PAND  X15, X1 // B, R of row 0
	PSRLW $8, X0  // G, A of row 0
	MOVO  X2, X3
	PAND  X15, X3 // B, R of row 1
	PSRLW $8, X2  // G, A of row 1

	// Luma of row 0 into X4, of row 1 into X5.
	MOVO    X1, X4
	PMADDWL X14, X4
	MOVO    X0, X5
	PMADDWL X13, X5
	PADDL   X5, X4
	PADDL   X8, X4
	PSRLL   $8, X4
	MOVO    X3, X5
	PMADDWL X14, X5
	MOVO    X2, X6
	PMADDWL X13, X6
	PADDL   X6, X5
	PADDL   X8, X5
	PSRLL   $8, X5
	PACKSSLW X5, X4
	PACKUSWB X4, X4
	MOVQ    X4, AX
	MOVL    AX, (R8)
	SHRQ    $32, AX
	MOVL    AX, (R9)

	// Chroma: the sums of the two rows, weighed per pixel, then added per 2×2 block.
	PADDW   X3, X1
	PADDW   X2, X0
	MOVO    X1, X4
	PMADDWL X12, X4
	MOVO    X0, X5
	PMADDWL X11, X5
	PADDL   X5, X4 // Cb partial sums of the 4 columns
	PMADDWL X10, X1
	PMADDWL X9, X0
	PADDL   X0, X1 // Cr partial sums
	PSHUFD  $0xb1, X4, X5
	PADDL   X5, X4
	PSHUFD  $0xb1, X1, X5
	PADDL   X5, X1
	PSHUFD  $0x08, X4, X4
	PSHUFD  $0x08, X1, X1
	PUNPCKLQDQ X1, X4 // Cb0, Cb1, Cr0, Cr1
	PADDL   X7, X4
	PSRLL   $10, X4
	PACKSSLW X4, X4
	PACKUSWB X4, X4
	MOVQ    X4, AX
	MOVW    AX, (R10)
	SHRQ    $16, AX
	MOVW    AX, (R11)

	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $2, R10
	ADDQ $2, R11
	DECQ CX
	JNZ  loop

done:
	RET
