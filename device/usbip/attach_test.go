package usbip_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shadowless-dev/shadowless/device/usbip"
	"github.com/shadowless-dev/shadowless/device/virtual"
	"github.com/shadowless-dev/shadowless/internal/testenv"
)

// vhciAvailable loads vhci-hcd if it can and reports whether its controller exists.
func vhciAvailable() bool {
	if _, err := os.Stat("/sys/devices/platform/vhci_hcd.0"); err == nil {
		return true
	}
	if p, err := exec.LookPath("modprobe"); err == nil {
		_ = exec.Command(p, "vhci-hcd").Run()
	}
	_, err := os.Stat("/sys/devices/platform/vhci_hcd.0")
	return err == nil
}

// TestLinuxUsbipAttach attaches our virtual keyboard to this kernel through vhci-hcd and
// finds it on the kernel's USB bus.
func TestLinuxUsbipAttach(t *testing.T) {
	bin := testenv.LookPath(t, "usbip")
	if !vhciAvailable() {
		// A kernel module, unlike a program, is not something scripts/install-deps.sh can
		// provide: CI machines without it skip too, and the data path stays covered by our
		// own client's tests.
		t.Skip("usbip attach needs the vhci-hcd kernel module, which this kernel does not have (no /sys/devices/platform/vhci_hcd.0, modprobe vhci-hcd failed)")
	}
	srv := usbip.NewServer()
	id := srv.Export(virtual.NewKeyboard())
	addr := serve(t, srv)
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--tcp-port", port, "attach", "-r", "127.0.0.1", "-b", id).CombinedOutput()
	require.NoError(t, err, "%s", out)
	defer func() { _ = exec.Command(bin, "detach", "-p", "0").Run() }()
	for ctx.Err() == nil {
		matches, _ := filepath.Glob("/sys/bus/usb/devices/*/idProduct")
		for _, m := range matches {
			b, _ := os.ReadFile(m)
			v, _ := os.ReadFile(filepath.Join(filepath.Dir(m), "idVendor"))
			if strings.TrimSpace(string(b)) == "0104" && strings.TrimSpace(string(v)) == "1d6b" {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("attached keyboard did not appear in /sys/bus/usb/devices")
}
