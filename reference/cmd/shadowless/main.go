// Command shadowless is the one binary of the Shadowless cloud-computer platform: it runs the
// streaming demo, the QA benchmarks, the VMAF tool, USB redirection and the storage cluster.
// Commands read as `shadowless <area> <verb>`; every command has --help with an example.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shadowless:", err)
		os.Exit(1)
	}
}

// newRootCmd assembles the command tree. Each area keeps its commands in a file of its own
// (demo.go, vmaf.go, usb.go, ...) and is listed here once.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "shadowless",
		Short: "Shadowless: stream cloud desktops and applications to browsers and thin clients",
		Long: `Shadowless is an open cloud-computer platform. This binary runs its pieces:

  shadowless demo             stream a desktop to your browser (start here)
  shadowless vmaf ...         score video quality, a drop-in for libvmaf's vmaf tool
  shadowless bench SCENARIO   measure latency, bandwidth, frame rate and quality
  shadowless usb ...          list, export and redirect USB devices
  shadowless storage ...      run the replicated cloud disk and its exports

Run 'shadowless <command> --help' for the flags and an example of each.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDemoCmd(),
		newVersionCmd(),
		newVMAFCmd(),
		newUsbCmd(),
		newSchedulerCmd(),
		newStorageCmd(),
		newBenchCmd(),
	)
	return root
}

// version is set at link time with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of this binary",
		Example: "  shadowless version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "shadowless", version)
			return err
		},
	}
}
