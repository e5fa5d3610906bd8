// Package codec compresses and decompresses video: VP8 and VP9 through libvpx and H.264
// constrained baseline through OpenH264, behind the Encoder and Decoder interfaces. It is the
// only asp package that uses cgo.
package codec
