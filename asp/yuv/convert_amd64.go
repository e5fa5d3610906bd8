package yuv

// convertRows4 is convertRows for groups×4 pixels in SSE2 assembly (convert_amd64.s), with
// exactly the same arithmetic.
//
//go:noescape
func convertRows4(y0, y1, cb, cr, s0, s1 *byte, groups int)

// convertRowsFast converts like convertRows, four pixels at a time in SSE2 and the rest (n
// is even: at most two pixels) in Go.
func convertRowsFast(y0, y1, cb, cr, s0, s1 []byte, n int) {
	g := n / 4
	if g > 0 {
		// Bounds, once: the assembly writes 4g luma bytes per row and 2g chroma bytes, and
		// reads 16g bytes per source row.
		_, _ = y0[4*g-1], y1[4*g-1]
		_, _ = cb[2*g-1], cr[2*g-1]
		_, _ = s0[16*g-1], s1[16*g-1]
		convertRows4(&y0[0], &y1[0], &cb[0], &cr[0], &s0[0], &s1[0], g)
	}
	if rest := n - 4*g; rest > 0 {
		convertRows(y0[4*g:], y1[4*g:], cb[2*g:], cr[2*g:], s0[16*g:], s1[16*g:], rest)
	}
}
