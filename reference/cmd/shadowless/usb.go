package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shadowless-dev/shadowless/device"
	"github.com/shadowless-dev/shadowless/device/gousb"
	"github.com/shadowless-dev/shadowless/device/usbip"
	"github.com/shadowless-dev/shadowless/device/usbredir"
	"github.com/shadowless-dev/shadowless/device/virtual"
)

func newUsbCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usb",
		Short: "List, export and redirect USB devices (usbredir, USB/IP, virtual devices)",
		Example: `  shadowless usb list
  shadowless usb export --device virtual:keyboard --usbredir-listen 127.0.0.1:4000`,
	}
	cmd.AddCommand(newUsbListCmd(), newUsbExportCmd())
	return cmd
}

func newUsbListCmd() *cobra.Command {
	var asJSON bool
	var watch time.Duration
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the USB devices on this machine and how each would be redirected",
		Example: `  shadowless usb list
  shadowless usb list --json
  shadowless usb list --watch 1s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := gousb.Open(slog.Default())
			if err != nil {
				return fmt.Errorf("usb list: %w", err)
			}
			defer b.Close()
			if watch > 0 {
				out := cmd.OutOrStdout()
				err := b.Watch(cmd.Context(), watch, func(added, removed []gousb.Info) {
					for _, i := range added {
						fmt.Fprintf(out, "+ usb:%d-%d %04x:%04x %s\n", i.Bus, i.Address, i.Vendor, i.Product, device.ChooseRoute(i.Identity(), device.RouteOptions{}).Path)
					}
					for _, i := range removed {
						fmt.Fprintf(out, "- usb:%d-%d %04x:%04x\n", i.Bus, i.Address, i.Vendor, i.Product)
					}
				})
				return ignoreCancel(err)
			}
			list, err := b.List()
			if err != nil {
				if errors.Is(err, gousb.ErrAccess) {
					return fmt.Errorf("usb list: libusb has no access to USB devices (run as root or add a udev rule; in a container pass /dev/bus/usb): %w", err)
				}
				return fmt.Errorf("usb list: %w", err)
			}
			type row struct {
				Device string `json:"device"`
				gousb.Info
				Route  string `json:"route"`
				Reason string `json:"reason"`
			}
			rows := make([]row, 0, len(list))
			for _, i := range list {
				r := device.ChooseRoute(i.Identity(), device.RouteOptions{})
				rows = append(rows, row{Device: fmt.Sprintf("usb:%d-%d", i.Bus, i.Address), Info: i, Route: r.Path.String(), Reason: r.Reason})
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				_, err := fmt.Fprintln(out, "no USB devices found")
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DEVICE\tID\tSPEED\tCLASS\tINTERFACES\tROUTE")
			for _, r := range rows {
				var ifs []string
				for _, c := range r.Interfaces {
					ifs = append(ifs, fmt.Sprintf("%02x/%02x/%02x", c.Class, c.SubClass, c.Protocol))
				}
				fmt.Fprintf(tw, "%s\t%04x:%04x\t%s\t%02x\t%s\t%s\n", r.Device, r.Vendor, r.Product, r.Speed, r.Class, strings.Join(ifs, ","), r.Route)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	cmd.Flags().DurationVar(&watch, "watch", 0, "keep polling at this interval and print devices as they come and go")
	return cmd
}

type exportFlags struct {
	spec          string
	redirListen   string
	redirConnect  string
	usbipListen   string
	filter        string
	insecure      bool
	typeText      string
	printerIdle   time.Duration
	once          bool
	readOnlyStore bool
}

func newUsbExportCmd() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Offer a real or virtual USB device over usbredir or USB/IP",
		Long: `Export one USB device so another machine can use it.

Devices (--device):
  virtual:keyboard          a HID boot keyboard (use --type to type text once a peer is attached)
  virtual:scanner           a barcode scanner: a keyboard that types each code and Enter
  virtual:storage=PATH      a USB drive backed by the file PATH (bulk-only transport + SCSI)
  virtual:printer=DIR       a USB printer; print jobs land in DIR as job-NNNN.prn
  virtual:loopback          a vendor-class test device that echoes bulk and iso data
  usb:VID:PID, usb:BUS-ADDR a real device (needs a binary built with -tags gousb)

Transports (exactly one):
  --usbredir-listen ADDR    usbredir usb-host side, waiting for a usb-guest (e.g. QEMU
                            -chardev socket,host=...,port=... -device usb-redir,chardev=...)
  --usbredir-connect H:P    usbredir, connecting to a usb-guest that listens (QEMU
                            -chardev socket,server=on,...)
  --usbip-listen ADDR       a USB/IP server ('usbip list -r', 'usbip attach')

Neither protocol authenticates or encrypts: listening on anything but loopback is refused
unless --insecure-listen is given. Carry them inside an authenticated tunnel instead.`,
		Example: `  shadowless usb export --device virtual:storage=disk.img --usbredir-listen 127.0.0.1:4000
  qemu-system-x86_64 ... -device qemu-xhci -chardev socket,id=u,host=127.0.0.1,port=4000 -device usb-redir,chardev=u
  shadowless usb export --device virtual:keyboard --usbip-listen 127.0.0.1:3240
  usbip list -r 127.0.0.1
  shadowless usb export --device usb:046d:c31c --usbredir-connect 127.0.0.1:5000 --filter '0x03,-1,-1,-1,1|-1,-1,-1,-1,0'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd.Context(), cmd.OutOrStdout(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.spec, "device", "", "device to export (see above)")
	fl.StringVar(&f.redirListen, "usbredir-listen", "", "listen for usbredir usb-guests on ADDR (host:port)")
	fl.StringVar(&f.redirConnect, "usbredir-connect", "", "connect to a usbredir usb-guest at HOST:PORT")
	fl.StringVar(&f.usbipListen, "usbip-listen", "", "serve USB/IP on ADDR (host:port; usbip's port is 3240)")
	fl.StringVar(&f.filter, "filter", "", "usbredir filter rules class,vendor,product,version,allow|... (-1 = any); the device must pass")
	fl.BoolVar(&f.insecure, "insecure-listen", false, "allow listening on a non-loopback address (no authentication, no encryption)")
	fl.StringVar(&f.typeText, "type", "", "virtual keyboard/scanner: text to type once a peer is attached")
	fl.DurationVar(&f.printerIdle, "printer-idle", 2*time.Second, "virtual printer: idle time that ends a print job")
	fl.BoolVar(&f.once, "once", false, "serve one session and exit (listen modes)")
	fl.BoolVar(&f.readOnlyStore, "read-only", false, "virtual storage: export the file write-protected")
	_ = cmd.MarkFlagRequired("device")
	return cmd
}

// openSpec builds the device a --device SPEC names; cleanup releases it.
func openSpec(f exportFlags, log *slog.Logger) (dev device.Device, cleanup func(), err error) {
	kind, arg, _ := strings.Cut(f.spec, "=")
	switch {
	case kind == "virtual:keyboard":
		k := virtual.NewKeyboard()
		return k, func() { k.Close() }, nil
	case kind == "virtual:scanner":
		s := virtual.NewScanner()
		return s, func() { s.Close() }, nil
	case kind == "virtual:loopback":
		l := virtual.NewLoopback()
		return l, func() { l.Close() }, nil
	case kind == "virtual:storage":
		if arg == "" {
			return nil, nil, errors.New("virtual:storage needs a file: virtual:storage=PATH")
		}
		ms, closeFile, err := virtual.OpenStorageFile(arg, f.readOnlyStore)
		if err != nil {
			return nil, nil, err
		}
		return ms, func() { ms.Close(); closeFile() }, nil
	case kind == "virtual:printer":
		if arg == "" {
			return nil, nil, errors.New("virtual:printer needs a directory: virtual:printer=DIR")
		}
		if st, err := os.Stat(arg); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("virtual:printer: %q is not a directory", arg)
		}
		p := virtual.NewPrinter(arg, virtual.WithIdleTimeout(f.printerIdle))
		go func() {
			for path := range p.Jobs() {
				log.Info("print job finished", "file", path)
			}
		}()
		return p, func() { p.Close() }, nil
	case strings.HasPrefix(f.spec, "usb:"):
		sel, err := gousb.ParseSelector(f.spec)
		if err != nil {
			return nil, nil, err
		}
		b, err := gousb.Open(log)
		if err != nil {
			return nil, nil, err
		}
		d, err := b.Open(sel)
		if err != nil {
			b.Close()
			return nil, nil, err
		}
		return d, func() { d.Close(); b.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown --device %q (want virtual:keyboard, virtual:scanner, virtual:storage=PATH, virtual:printer=DIR, virtual:loopback, usb:VID:PID or usb:BUS-ADDR)", f.spec)
}

// checkListen refuses non-loopback listen addresses unless insecure is set.
func checkListen(addr string, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	if insecure {
		return nil
	}
	return fmt.Errorf("refusing to listen on %q: usbredir and USB/IP have no authentication or encryption; use a loopback address (127.0.0.1) inside a tunnel, or pass --insecure-listen", addr)
}

func runExport(ctx context.Context, out io.Writer, f exportFlags) error {
	n := 0
	for _, s := range []string{f.redirListen, f.redirConnect, f.usbipListen} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("usb export: give exactly one of --usbredir-listen, --usbredir-connect, --usbip-listen")
	}
	for _, a := range []string{f.redirListen, f.usbipListen} {
		if a != "" {
			if err := checkListen(a, f.insecure); err != nil {
				return fmt.Errorf("usb export: %w", err)
			}
		}
	}
	filter, err := device.ParseFilter(f.filter)
	if err != nil {
		return fmt.Errorf("usb export: --filter: %w", err)
	}
	filter.DefaultAllow = f.filter == ""
	policy := device.Policy{Filter: filter}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	dev, cleanup, err := openSpec(f, log)
	if err != nil {
		return fmt.Errorf("usb export: %w", err)
	}
	defer cleanup()
	id := device.IdentityOf(dev.Descriptors(), dev.Configuration())
	if err := policy.Check(id); err != nil {
		return fmt.Errorf("usb export: %s: %w", dev.Descriptors(), err)
	}
	route := device.ChooseRoute(id, device.RouteOptions{ForceURB: true})
	fmt.Fprintf(out, "exporting %s (%s) as URBs\n", dev.Descriptors(), dev.Descriptors().Speed)
	if r := device.ChooseRoute(id, device.RouteOptions{}); r.Path != route.Path {
		fmt.Fprintf(out, "note: inside a Shadowless session this device would go as %s: %s\n", r.Path, r.Reason)
	}
	typer := func() {
		if f.typeText == "" {
			return
		}
		k, ok := dev.(interface {
			Type(context.Context, string) error
		})
		if !ok {
			log.Warn("--type only applies to virtual:keyboard and virtual:scanner")
			return
		}
		time.Sleep(time.Second) // let the guest configure the device and start polling
		if err := k.Type(ctx, f.typeText); err != nil {
			log.Warn("typing failed", "err", err)
		}
	}
	opts := []usbredir.Option{usbredir.WithLogger(log), usbredir.WithPolicy(policy)}
	switch {
	case f.redirConnect != "":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", f.redirConnect)
		if err != nil {
			return fmt.Errorf("usb export: %w", err)
		}
		fmt.Fprintf(out, "connected to usb-guest %s\n", f.redirConnect)
		go typer()
		return ignoreCancel(usbredir.Serve(ctx, c, dev, opts...))
	case f.redirListen != "":
		ln, err := net.Listen("tcp", f.redirListen)
		if err != nil {
			return fmt.Errorf("usb export: %w", err)
		}
		defer ln.Close()
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		defer stop()
		fmt.Fprintf(out, "usbredir: waiting for a usb-guest on %s\n", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				return ignoreCancel(ctxErrOr(ctx, err))
			}
			fmt.Fprintf(out, "usb-guest %s attached\n", c.RemoteAddr())
			go typer()
			err = usbredir.Serve(ctx, c, dev, opts...)
			fmt.Fprintf(out, "usb-guest %s detached: %v\n", c.RemoteAddr(), err)
			if f.once || ctx.Err() != nil || errors.Is(err, device.ErrNoDevice) {
				return ignoreCancel(err)
			}
		}
	default:
		ln, err := net.Listen("tcp", f.usbipListen)
		if err != nil {
			return fmt.Errorf("usb export: %w", err)
		}
		srv := usbip.NewServer(usbip.WithLogger(log), usbip.WithPolicy(policy))
		busid := srv.Export(dev)
		fmt.Fprintf(out, "usbip: serving bus id %s on %s (usbip --tcp-port PORT list -r HOST)\n", busid, ln.Addr())
		go typer()
		return ignoreCancel(srv.Serve(ctx, ln))
	}
}

func ctxErrOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func ignoreCancel(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
