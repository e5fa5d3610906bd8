package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/shadowless-dev/shadowless/storage/cluster"
	"github.com/shadowless-dev/shadowless/storage/files"
	"github.com/shadowless-dev/shadowless/storage/meta"
	"github.com/shadowless-dev/shadowless/storage/nbd"
	"github.com/shadowless-dev/shadowless/storage/storagepb"
	"github.com/shadowless-dev/shadowless/storage/storagepb/storagepbconnect"
)

const defaultMetaAddr = "127.0.0.1:7400"

func newStorageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Run the replicated cloud disk: metadata service, chunk servers, volumes and exports",
		Long: `The cloud disk keeps every chunk on three chunk servers in distinct failure domains and
acknowledges a write only when all three have it durably.

  shadowless storage up            a whole cluster in one process (start here)
  shadowless storage meta          the metadata and volume service alone
  shadowless storage chunkserver   one chunk server joining a metadata service
  shadowless storage volume ...    create, resize, snapshot, restore, back up, delete, list
  shadowless storage status        nodes, replica health, repair progress
  shadowless storage scrub         compare and repair every replica`,
		Example: "  shadowless storage up --dir /var/lib/shadowless/storage --nbd 127.0.0.1:10809",
	}
	cmd.AddCommand(newStorageUpCmd(), newStorageMetaCmd(), newStorageChunkserverCmd(), newStorageVolumeCmd(), newStorageStatusCmd(), newStorageScrubCmd())
	return cmd
}

// parseSize accepts plain bytes or a number with K/M/G/T (KiB/MiB/GiB/TiB) suffix.
func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		case 'T':
			mult, t = 1<<40, t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q (e.g. 4096, 64M, 10G)", s)
	}
	return v * mult, nil
}

func cliLogger(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// exportHooks are the optional exports `storage up` and `storage meta` start next to the
// cluster: NBD for virtual machines, the file center over WebDAV and HTTP for people.
type exportHooks struct {
	nbdAddr, webdavAddr, webdavUser, webdavPassword string
	filesSize                                       string
}

// filesVolume is the volume that holds the file center's file contents.
const filesVolume = "files"

// openFileCenter opens the file center with its tree in DIR/files/files.db and the file
// contents on the replicated volume "files" (created on first use).
func (h *exportHooks) openFileCenter(ctx context.Context, m *cluster.Manager, dir string, log *slog.Logger) (*files.Service, func(), error) {
	vol, err := m.OpenVolume(filesVolume)
	if errors.Is(err, cluster.ErrNoVolume) {
		size, perr := parseSize(h.filesSize)
		if perr != nil {
			return nil, nil, perr
		}
		vol, err = m.CreateVolume(ctx, filesVolume, size, 4<<20)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o700); err != nil {
		return nil, nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "files", "files.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	store, err := files.NewVolumeStore(db, vol)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc, err := files.NewService(db, store, files.WithLogger(log))
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	log.Info("file center contents on replicated volume", "volume", filesVolume, "size", vol.Size())
	return svc, func() { svc.Close(); db.Close() }, nil
}

func (h *exportHooks) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.nbdAddr, "nbd", "", "serve every volume over NBD on this address (export name = volume name)")
	cmd.Flags().StringVar(&h.webdavAddr, "webdav", "", "serve the file center over WebDAV (/) and HTTP (/api/) on this address")
	cmd.Flags().StringVar(&h.webdavUser, "webdav-user", "", "user name for the file center (basic auth)")
	cmd.Flags().StringVar(&h.webdavPassword, "webdav-password", "", "password for the file center user")
	cmd.Flags().StringVar(&h.filesSize, "files-size", "1G", "size of the replicated volume \"files\" holding the file center's contents, when it is created")
}

// start runs the exports until ctx ends; the returned channel yields their first error.
func (h *exportHooks) start(ctx context.Context, m *cluster.Manager, dir string, log *slog.Logger) (<-chan error, error) {
	errc := make(chan error, 2)
	if h.nbdAddr != "" {
		ln, err := net.Listen("tcp", h.nbdAddr)
		if err != nil {
			return nil, err
		}
		exports := nbd.ExportFuncs{
			LookupFunc: func(_ context.Context, name string) (nbd.Export, error) {
				if name == "" {
					name = "default"
				}
				v, err := m.OpenVolume(name)
				if err != nil {
					return nbd.Export{}, fmt.Errorf("%w: %w", nbd.ErrUnknownExport, err)
				}
				return nbd.Export{Name: name, Device: v, ReadOnly: v.ReadOnly()}, nil
			},
			ListFunc: m.VolumeNames,
		}
		srv := nbd.NewServer(exports, nbd.WithLogger(log))
		log.Info("NBD export listening", "addr", ln.Addr().String())
		go func() { errc <- srv.Serve(ctx, ln) }()
	}
	if h.webdavAddr != "" {
		if h.webdavUser == "" || h.webdavPassword == "" {
			return nil, errors.New("--webdav needs --webdav-user and --webdav-password")
		}
		svc, closeFiles, err := h.openFileCenter(ctx, m, dir, log)
		if err != nil {
			return nil, err
		}
		auth := files.BasicAuth(files.Passwords(map[string]string{h.webdavUser: h.webdavPassword}))
		mux := http.NewServeMux()
		mux.Handle("/api/", svc.HTTPHandler(auth))
		mux.Handle("/", svc.WebDAVHandler("", auth))
		ln, err := net.Listen("tcp", h.webdavAddr)
		if err != nil {
			closeFiles()
			return nil, err
		}
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("file center listening (WebDAV at /, HTTP API at /api/)", "addr", ln.Addr().String())
		go func() {
			<-ctx.Done()
			hs.Close()
			closeFiles()
		}()
		go func() {
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	return errc, nil
}

func newStorageUpCmd() *cobra.Command {
	var (
		dir, listen, size, chunkSize string
		nodes                        int
		scrubEvery                   time.Duration
		hooks                        exportHooks
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole local cluster: metadata service plus N chunk servers, with a volume named default",
		Long: `Runs the metadata and volume service and N chunk servers in this process, talking Connect
over loopback. Each chunk server keeps its chunks in DIR/node-N and is its own failure domain
(zone-N). The master key that wraps every volume key is DIR/meta/master.key. A volume named
"default" is created on first start.`,
		Example: `  shadowless storage up --dir ./storage-data
  shadowless storage up --dir ./storage-data --nodes 4 --nbd 127.0.0.1:10809
  qemu-io -f raw nbd://127.0.0.1:10809/default -c 'write -P 0xab 0 1M'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			vs, err := parseSize(size)
			if err != nil {
				return err
			}
			cs, err := parseSize(chunkSize)
			if err != nil {
				return err
			}
			log := cliLogger(cmd)
			ctx := cmd.Context()
			l, err := cluster.StartLocal(ctx, cluster.LocalConfig{Dir: dir, Nodes: nodes, MetaListen: listen, DefaultVolumeSize: vs, ChunkSize: cs, ScrubInterval: scrubEvery, Logger: log})
			if err != nil {
				return err
			}
			defer l.Close()
			errc, err := hooks.start(ctx, l.Manager, dir, log)
			if err != nil {
				return err
			}
			log.Info("storage cluster up", "meta", l.Manager.Addr(), "nodes", nodes, "dir", dir)
			fmt.Fprintf(cmd.OutOrStdout(), "storage cluster up: meta %s, %d chunk servers, volume default\n", l.Manager.Addr(), nodes)
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "data directory (meta/ and node-N/ below it)")
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of chunk servers (at least 3)")
	cmd.Flags().StringVar(&listen, "listen", defaultMetaAddr, "address of the metadata and volume services")
	cmd.Flags().StringVar(&size, "size", "1G", "size of the default volume when it is created")
	cmd.Flags().StringVar(&chunkSize, "chunk-size", "4M", "chunk size of the default volume")
	cmd.Flags().DurationVar(&scrubEvery, "scrub-interval", 24*time.Hour, "scrub every replica this often (negative: never)")
	hooks.flags(cmd)
	return cmd
}

func newStorageMetaCmd() *cobra.Command {
	var (
		dir, listen, masterKey string
		scrubEvery             time.Duration
		hooks                  exportHooks
	)
	cmd := &cobra.Command{
		Use:   "meta",
		Short: "Run the metadata and volume service (chunk servers join it with 'storage chunkserver')",
		Example: `  shadowless storage meta --dir /var/lib/shadowless/meta --listen 127.0.0.1:7400
  shadowless storage chunkserver --dir /srv/chunks --meta 127.0.0.1:7400 --zone z1 --rack r1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			if masterKey == "" {
				masterKey = filepath.Join(dir, "master.key")
			}
			mk, err := cluster.LoadMasterKey(masterKey)
			if err != nil {
				return err
			}
			ms, err := meta.Open(filepath.Join(dir, "meta.db"), mk)
			if err != nil {
				return err
			}
			defer ms.Close()
			log := cliLogger(cmd)
			m, err := cluster.StartManager(cluster.ManagerConfig{Meta: ms, Listen: listen, ScrubInterval: scrubEvery, Logger: log})
			if err != nil {
				return err
			}
			defer m.Close()
			errc, err := hooks.start(cmd.Context(), m, dir, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "metadata service on %s\n", m.Addr())
			select {
			case <-cmd.Context().Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory of meta.db")
	cmd.Flags().StringVar(&listen, "listen", defaultMetaAddr, "address to serve on")
	cmd.Flags().StringVar(&masterKey, "master-key", "", "file holding the 32-byte master key (default DIR/master.key, created if missing)")
	cmd.Flags().DurationVar(&scrubEvery, "scrub-interval", 24*time.Hour, "scrub every replica this often (negative: never)")
	hooks.flags(cmd)
	return cmd
}

func newStorageChunkserverCmd() *cobra.Command {
	var cfg cluster.ChunkServerConfig
	cmd := &cobra.Command{
		Use:     "chunkserver",
		Short:   "Run one chunk server and register it with the metadata service",
		Example: "  shadowless storage chunkserver --dir /srv/chunks --meta 127.0.0.1:7400 --listen 127.0.0.1:7501 --zone z1 --rack r1 --host h1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Dir == "" {
				return errors.New("--dir is required")
			}
			cfg.Logger = cliLogger(cmd)
			cs, err := cluster.StartChunkServer(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "chunk server %s on %s\n", cs.ID(), cs.Addr())
			<-cmd.Context().Done()
			return cs.Stop()
		},
	}
	cmd.Flags().StringVar(&cfg.Dir, "dir", "", "directory of the chunk store")
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "address to serve on")
	cmd.Flags().StringVar(&cfg.MetaAddr, "meta", defaultMetaAddr, "metadata service address")
	cmd.Flags().StringVar(&cfg.ID, "id", "", "node id (default: derived from the store identity)")
	cmd.Flags().StringVar(&cfg.Zone, "zone", "", "failure domain: zone")
	cmd.Flags().StringVar(&cfg.Rack, "rack", "", "failure domain: rack")
	cmd.Flags().StringVar(&cfg.Host, "host", "", "failure domain: host (default: the node id)")
	return cmd
}

func volumeClient(addr string) storagepbconnect.VolumeServiceClient {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: &p}}
	return storagepbconnect.NewVolumeServiceClient(hc, "http://"+addr)
}

func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func printVolume(cmd *cobra.Command, asJSON bool, v *storagepb.Volume) error {
	if asJSON {
		return printJSON(cmd.OutOrStdout(), v)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\tid=%d\tsize=%d\tchunk=%d\n", v.Name, v.Id, v.Size, v.ChunkSize)
	return err
}

func newStorageVolumeCmd() *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "volume",
		Short:   "Create, resize, snapshot, restore, back up, delete and list volumes",
		Example: "  shadowless storage volume create data --size 10G\n  shadowless storage volume list --json",
	}
	cmd.PersistentFlags().StringVar(&addr, "meta", defaultMetaAddr, "metadata service address")
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	volResp := func(cmd *cobra.Command, r *connect.Response[storagepb.VolumeResponse], err error) error {
		if err != nil {
			return err
		}
		return printVolume(cmd, asJSON, r.Msg.Volume)
	}
	var size, chunkSize string
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a volume", Args: cobra.ExactArgs(1),
		Example: "  shadowless storage volume create data --size 10G --chunk-size 4M",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := parseSize(size)
			if err != nil {
				return err
			}
			c, err := parseSize(chunkSize)
			if err != nil {
				return err
			}
			r, err := volumeClient(addr).CreateVolume(cmd.Context(), connect.NewRequest(&storagepb.CreateVolumeRequest{Name: args[0], Size: s, ChunkSize: c}))
			return volResp(cmd, r, err)
		},
	}
	create.Flags().StringVar(&size, "size", "1G", "volume size")
	create.Flags().StringVar(&chunkSize, "chunk-size", "4M", "chunk size (up to 64M)")
	var newSize string
	resize := &cobra.Command{
		Use: "resize NAME", Short: "Grow a volume online", Args: cobra.ExactArgs(1),
		Example: "  shadowless storage volume resize data --size 20G",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := parseSize(newSize)
			if err != nil {
				return err
			}
			r, err := volumeClient(addr).ResizeVolume(cmd.Context(), connect.NewRequest(&storagepb.ResizeVolumeRequest{Name: args[0], Size: s}))
			return volResp(cmd, r, err)
		},
	}
	resize.Flags().StringVar(&newSize, "size", "", "new size (larger than the current one)")
	snapshot := &cobra.Command{
		Use: "snapshot VOLUME SNAPSHOT", Short: "Take a copy-on-write, read-only snapshot (VOLUME@SNAPSHOT; it shares the volume's key and is deleted with it)", Args: cobra.ExactArgs(2),
		Example: "  shadowless storage volume snapshot data before-upgrade",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := volumeClient(addr).SnapshotVolume(cmd.Context(), connect.NewRequest(&storagepb.SnapshotVolumeRequest{Volume: args[0], Snapshot: args[1]}))
			return volResp(cmd, r, err)
		},
	}
	restore := &cobra.Command{
		Use: "restore VOLUME SNAPSHOT", Short: "Restore a volume's contents from one of its snapshots", Args: cobra.ExactArgs(2),
		Example: "  shadowless storage volume restore data before-upgrade",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := volumeClient(addr).RestoreVolume(cmd.Context(), connect.NewRequest(&storagepb.RestoreVolumeRequest{Volume: args[0], Snapshot: args[1]}))
			return volResp(cmd, r, err)
		},
	}
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a volume (crypto-erase: its key is destroyed at once) or one snapshot (VOLUME@SNAPSHOT)", Args: cobra.ExactArgs(1),
		Example: "  shadowless storage volume delete data",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := volumeClient(addr).DeleteVolume(cmd.Context(), connect.NewRequest(&storagepb.DeleteVolumeRequest{Name: args[0]}))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r.Msg)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted %s (%d volume ids, keys destroyed)\n", args[0], len(r.Msg.Removed))
			return err
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List volumes and snapshots", Args: cobra.NoArgs,
		Example: "  shadowless storage volume list --json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := volumeClient(addr).ListVolumes(cmd.Context(), connect.NewRequest(&storagepb.ListVolumesRequest{}))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r.Msg)
			}
			for _, v := range r.Msg.Volumes {
				if err := printVolume(cmd, false, v); err != nil {
					return err
				}
			}
			return nil
		},
	}
	backup := &cobra.Command{
		Use: "backup VOLUME DIR", Short: "Back up a volume to a directory (encrypted with its own key, wrapped by the master key)", Args: cobra.ExactArgs(2),
		Example: "  shadowless storage volume backup data /backups/data-2026-11-28",
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := filepath.Abs(args[1])
			if err != nil {
				return err
			}
			r, err := volumeClient(addr).Backup(cmd.Context(), connect.NewRequest(&storagepb.BackupRequest{Volume: args[0], Dir: dir}))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r.Msg)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "backed up %d chunks (%d bytes) to %s\n", r.Msg.Chunks, r.Msg.Bytes, dir)
			return err
		},
	}
	restoreBackup := &cobra.Command{
		Use: "restore-backup DIR NAME", Short: "Create volume NAME from a backup directory", Args: cobra.ExactArgs(2),
		Example: "  shadowless storage volume restore-backup /backups/data-2026-11-28 data-copy",
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			r, err := volumeClient(addr).RestoreBackup(cmd.Context(), connect.NewRequest(&storagepb.RestoreBackupRequest{Dir: dir, Volume: args[1]}))
			return volResp(cmd, r, err)
		},
	}
	cmd.AddCommand(create, resize, snapshot, restore, del, list, backup, restoreBackup)
	return cmd
}

func newStorageStatusCmd() *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show chunk servers, replica health and repair progress",
		Example: "  shadowless storage status\n  shadowless storage status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := volumeClient(addr).Status(cmd.Context(), connect.NewRequest(&storagepb.StatusRequest{}))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r.Msg)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NODE\tADDR\tZONE/RACK/HOST\tHEALTHY\tCHUNKS\tBYTES\tLIVE")
			for _, n := range r.Msg.Nodes {
				fmt.Fprintf(w, "%s\t%s\t%s/%s/%s\t%v\t%d\t%d\t%d\n", n.Id, n.Addr, n.Zone, n.Rack, n.Host, n.Healthy, n.Chunks, n.TotalBytes, n.LiveBytes)
			}
			fmt.Fprintln(w, "\nVOLUME\tCHUNKS PLACED\tDEGRADED")
			for _, v := range r.Msg.Volumes {
				fmt.Fprintf(w, "%s\t%d\t%d\n", v.Name, v.ChunksPlaced, v.Degraded)
			}
			fmt.Fprintf(w, "\nrepairs: %d done, %d failed, %d pending, %d bytes copied; scrub: %d chunks, %d mismatches\n",
				r.Msg.RepairsDone, r.Msg.RepairsFailed, r.Msg.RepairsPending, r.Msg.RepairBytes, r.Msg.ScrubbedChunks, r.Msg.ScrubMismatches)
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&addr, "meta", defaultMetaAddr, "metadata service address")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newStorageScrubCmd() *cobra.Command {
	var addr, volume string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "scrub",
		Short:   "Read every replica, compare versions and digests, repair the ones that disagree",
		Example: "  shadowless storage scrub --volume default",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := volumeClient(addr).Scrub(cmd.Context(), connect.NewRequest(&storagepb.ScrubRequest{Volume: volume}))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r.Msg)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "scrubbed %d chunks: %d mismatched replicas, %d repaired\n", r.Msg.Chunks, r.Msg.Mismatches, r.Msg.Repaired)
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "meta", defaultMetaAddr, "metadata service address")
	cmd.Flags().StringVar(&volume, "volume", "", "only this volume (default: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
