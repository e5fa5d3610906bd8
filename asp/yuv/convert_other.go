//go:build !amd64

package yuv

// convertRowsFast is convertRows where no assembly version exists.
func convertRowsFast(y0, y1, cb, cr, s0, s1 []byte, n int) {
	convertRows(y0, y1, cb, cr, s0, s1, n)
}
