// Package quality measures picture quality the way Netflix's libvmaf does, in pure Go: VMAF
// with the vmaf_v0.6.1 model (integer VIF at four scales, ADM2, motion2, the nu-SVR with an
// RBF kernel), the other integer features libvmaf prints beside it (AIM, ADM3, the per-scale
// ADM and VIF ratios, the motion SAD and motion3), and optionally PSNR (Y, Cb, Cr) and SSIM
// (libvmaf's float_ssim). The fixed-point arithmetic follows libvmaf so per-frame scores
// agree with its output to the six decimals it prints.
//
// Compare takes two FrameReaders (YUVReader reads raw 8- or 10-bit YUV 4:2:0 files, the
// input of libvmaf's vmaf tool), scores frames in parallel on GOMAXPROCS workers (while
// cores would sit idle, as for a single frame, a frame's VIF also runs beside its other
// features) and returns per-frame metrics plus their pooled min, max, mean and harmonic mean. WriteJSON and
// WriteXML produce libvmaf's output layouts, so scripts that read libvmaf's files keep
// working; `shadowless vmaf` is the command-line front end.
//
// On amd64 CPUs with AVX2 (detected at run time with golang.org/x/sys/cpu) the hot loops
// run as hand-written assembly kernels: VIF's vertical and horizontal filters and its
// per-sample statistic at scales 0 (8-bit) to 2, its subsampling between scales, ADM's
// scale-0 wavelet transform, decoupling, contrast sensitivity weighting and contrast
// masking, and both passes of the motion filter. Each kernel has a Go twin over the same
// data layout (vif_planes.go, vif_subsample.go, adm_dwt.go, adm_csf.go, adm_decouple.go,
// adm_cm.go, motion.go) that serves other CPUs' tails and is the oracle of its tests and
// fuzz targets: the kernels give bit-identical results, so scores do not depend on the
// CPU. Building with the purego tag leaves the assembly out; the original Go loops then
// compute every feature, as they do on CPUs without AVX2.
//
// Model parameters are data from libvmaf (see NOTICE.md); the code is our own.
package quality
