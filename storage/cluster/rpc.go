package cluster

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/shadowless-dev/shadowless/storage/meta"
	"github.com/shadowless-dev/shadowless/storage/storagepb"
)

// volumeService serves storagepb.VolumeService from a Manager.
type volumeService struct{ m *Manager }

func volResp(v meta.Volume, err error) (*connect.Response[storagepb.VolumeResponse], error) {
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.VolumeResponse{Volume: pbVolume(v)}), nil
}

func (s volumeService) CreateVolume(ctx context.Context, req *connect.Request[storagepb.CreateVolumeRequest]) (*connect.Response[storagepb.VolumeResponse], error) {
	cs := req.Msg.ChunkSize
	if cs == 0 {
		cs = 4 << 20
	}
	vol, err := s.m.CreateVolume(ctx, req.Msg.Name, req.Msg.Size, cs)
	if err != nil {
		return nil, toConnect(err)
	}
	return volResp(s.m.meta.VolumeByID(vol.id))
}

func (s volumeService) ResizeVolume(ctx context.Context, req *connect.Request[storagepb.ResizeVolumeRequest]) (*connect.Response[storagepb.VolumeResponse], error) {
	return volResp(s.m.ResizeVolume(ctx, req.Msg.Name, req.Msg.Size))
}

func (s volumeService) SnapshotVolume(ctx context.Context, req *connect.Request[storagepb.SnapshotVolumeRequest]) (*connect.Response[storagepb.VolumeResponse], error) {
	return volResp(s.m.Snapshot(ctx, req.Msg.Volume, req.Msg.Snapshot))
}

func (s volumeService) RestoreVolume(ctx context.Context, req *connect.Request[storagepb.RestoreVolumeRequest]) (*connect.Response[storagepb.VolumeResponse], error) {
	return volResp(s.m.Restore(ctx, req.Msg.Volume, req.Msg.Snapshot))
}

func (s volumeService) DeleteVolume(ctx context.Context, req *connect.Request[storagepb.DeleteVolumeRequest]) (*connect.Response[storagepb.DeleteVolumeResponse], error) {
	removed, err := s.m.DeleteVolume(ctx, req.Msg.Name)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.DeleteVolumeResponse{Removed: removed}), nil
}

func (s volumeService) ListVolumes(context.Context, *connect.Request[storagepb.ListVolumesRequest]) (*connect.Response[storagepb.ListVolumesResponse], error) {
	vols, err := s.m.meta.Volumes()
	if err != nil {
		return nil, toConnect(err)
	}
	out := &storagepb.ListVolumesResponse{}
	for _, v := range vols {
		out.Volumes = append(out.Volumes, pbVolume(v))
	}
	return connect.NewResponse(out), nil
}

func (s volumeService) Backup(ctx context.Context, req *connect.Request[storagepb.BackupRequest]) (*connect.Response[storagepb.BackupResponse], error) {
	if req.Msg.Dir == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("backup directory required"))
	}
	n, b, err := s.m.Backup(ctx, req.Msg.Volume, req.Msg.Dir)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.BackupResponse{Chunks: int64(n), Bytes: b}), nil
}

func (s volumeService) RestoreBackup(ctx context.Context, req *connect.Request[storagepb.RestoreBackupRequest]) (*connect.Response[storagepb.VolumeResponse], error) {
	return volResp(s.m.RestoreBackup(ctx, req.Msg.Dir, req.Msg.Volume))
}

func (s volumeService) Status(ctx context.Context, _ *connect.Request[storagepb.StatusRequest]) (*connect.Response[storagepb.StatusResponse], error) {
	st, err := s.m.Status(ctx)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(st), nil
}

func (s volumeService) Scrub(ctx context.Context, req *connect.Request[storagepb.ScrubRequest]) (*connect.Response[storagepb.ScrubResponse], error) {
	r, err := s.m.Scrub(ctx, req.Msg.Volume)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&storagepb.ScrubResponse{Chunks: r.Chunks, Mismatches: r.Mismatches, Repaired: r.Repaired}), nil
}
