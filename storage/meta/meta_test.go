package meta

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func masterKey(t *testing.T) []byte {
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func TestPlaceSpreadsAcrossFailureDomains(t *testing.T) {
	nodes := []Node{
		{ID: "a1", Zone: "z1", Rack: "r1", Host: "h1", Healthy: true},
		{ID: "a2", Zone: "z1", Rack: "r1", Host: "h2", Healthy: true},
		{ID: "a3", Zone: "z1", Rack: "r2", Host: "h3", Healthy: true},
		{ID: "b1", Zone: "z2", Rack: "r1", Host: "h4", Healthy: true},
		{ID: "c1", Zone: "z3", Rack: "r1", Host: "h5", Healthy: true},
		{ID: "c2", Zone: "z3", Rack: "r1", Host: "h6", Healthy: false},
	}
	zoneOf := map[string]string{}
	for _, n := range nodes {
		zoneOf[n.ID] = n.Zone
	}
	for i := 0; i < 20; i++ {
		got, err := Place(nodes, nil, nil, 3, nil, string(rune('a'+i)))
		require.NoError(t, err)
		zones := map[string]bool{}
		for _, id := range got {
			zones[zoneOf[id]] = true
			assert.NotEqual(t, "c2", id, "unhealthy node chosen")
		}
		assert.Len(t, zones, 3, "replicas %v not in three zones", got)
	}
	// With one zone only, racks then hosts are spread.
	one := nodes[:3]
	got, err := Place(one, nil, nil, 3, nil, "k")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a1", "a2", "a3"}, got)
	got, err = Place(one, []string{"a1"}, nil, 2, nil, "k")
	require.NoError(t, err)
	assert.Equal(t, []string{"a1", "a3"}, got, "second replica goes to the other rack")
	// Load breaks ties.
	flat := []Node{{ID: "x", Healthy: true}, {ID: "y", Healthy: true}, {ID: "z", Healthy: true}}
	got, err = Place(flat, nil, nil, 1, map[string]int{"x": 5, "y": 0, "z": 5}, "k")
	require.NoError(t, err)
	assert.Equal(t, []string{"y"}, got)
	_, err = Place(flat, nil, []string{"x", "y"}, 3, nil, "k")
	assert.ErrorIs(t, err, ErrNotEnoughNodes)
}

func TestVolumesPlacementAndErase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.db")
	mk := masterKey(t)
	s, err := Open(path, mk)
	require.NoError(t, err)
	defer func() { s.Close() }()
	for i, z := range []string{"z1", "z2", "z3", "z4"} {
		require.NoError(t, s.UpsertNode(Node{ID: z, Addr: "127.0.0.1:1", Zone: z, Host: z, Healthy: i < 4}))
	}
	v, err := s.CreateVolume("default", 1<<30, 4<<20)
	require.NoError(t, err)
	assert.Equal(t, uint64(256), v.Chunks())
	_, err = s.CreateVolume("default", 1<<30, 4<<20)
	assert.ErrorIs(t, err, ErrExists)
	_, err = s.CreateVolume("bad/name", 1<<30, 4<<20)
	assert.ErrorIs(t, err, ErrInvalid)
	key, err := s.DataKey(v.ID)
	require.NoError(t, err)
	assert.Len(t, key, KeySize)

	p, err := s.Place(v.ID, 3)
	require.NoError(t, err)
	assert.Len(t, p.Nodes, 3)
	assert.Equal(t, uint64(1), p.Epoch)
	p2, err := s.Place(v.ID, 3)
	require.NoError(t, err)
	assert.Equal(t, p, p2, "placement is stable")

	np, err := s.Replace(v.ID, 3, []string{p.Nodes[0]}, p.Epoch)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), np.Epoch)
	assert.NotContains(t, np.Nodes, p.Nodes[0])
	assert.Equal(t, p.Nodes[1:], np.Nodes[:2], "healthy replicas are kept")
	_, err = s.Replace(v.ID, 3, []string{p.Nodes[1]}, p.Epoch)
	assert.ErrorIs(t, err, ErrConflict)

	_, err = s.Resize("default", 1<<29)
	assert.ErrorIs(t, err, ErrShrink)
	v2, err := s.Resize("default", 2<<30)
	require.NoError(t, err)
	assert.Equal(t, int64(2<<30), v2.Size)

	snap, err := s.CreateSnapshot("default", "s1")
	require.NoError(t, err)
	assert.Equal(t, "default@s1", snap.Name)
	skey, err := s.DataKey(snap.ID)
	require.NoError(t, err)
	assert.Equal(t, key, skey, "a snapshot shares its volume's key")

	// Reopen: everything persisted, and a wrong master key cannot unwrap.
	require.NoError(t, s.Close())
	_, err = func() ([]byte, error) {
		w, err := Open(path, masterKey(t))
		require.NoError(t, err)
		defer w.Close()
		return w.DataKey(v.ID)
	}()
	assert.Error(t, err)
	s, err = Open(path, mk)
	require.NoError(t, err)
	wrapped, err := s.WrappedKey(v.ID)
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Contains(raw, wrapped))

	removed, err := s.DeleteVolume("default")
	require.NoError(t, err)
	assert.ElementsMatch(t, []uint64{v.ID, snap.ID}, removed)
	_, err = s.DataKey(v.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.DataKey(snap.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	ps, err := s.Placements(v.ID)
	require.NoError(t, err)
	assert.Empty(t, ps)
	raw, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, wrapped), "wrapped key still in the metadata file")
	assert.False(t, bytes.Contains(raw, key), "data key in the metadata file")
	vols, err := s.Volumes()
	require.NoError(t, err)
	assert.Empty(t, vols)
}

func TestSnapshotSharesChunks(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), masterKey(t))
	require.NoError(t, err)
	defer s.Close()
	for _, z := range []string{"z1", "z2", "z3"} {
		require.NoError(t, s.UpsertNode(Node{ID: z, Addr: "127.0.0.1:1", Zone: z, Healthy: true}))
	}
	v, err := s.CreateVolume("v", 64<<20, 4<<20)
	require.NoError(t, err)
	for _, idx := range []uint64{0, 5} {
		_, err := s.Place(v.ID, idx)
		require.NoError(t, err)
	}
	s1, err := s.CreateSnapshot("v", "s1")
	require.NoError(t, err)
	s2, err := s.CreateSnapshot("v", "s2")
	require.NoError(t, err)
	ids, err := s.SharedWith(v.ID, 5)
	require.NoError(t, err)
	assert.Equal(t, []uint64{s1.ID, s2.ID}, ids)
	ids, err = s.SharedWith(v.ID, 1)
	require.NoError(t, err)
	assert.Empty(t, ids, "a chunk never written is not shared (the snapshot reads zeroes)")
	require.NoError(t, s.Unshare(v.ID, 5, s1.ID))
	ids, err = s.SharedWith(v.ID, 5)
	require.NoError(t, err)
	assert.Equal(t, []uint64{s2.ID}, ids)
	shared, err := s.SharedChunks(v.ID)
	require.NoError(t, err)
	assert.Equal(t, []uint64{0, 5}, shared)

	_, err = s.DeleteVolume("v@s2")
	require.NoError(t, err)
	ids, err = s.SharedWith(v.ID, 5)
	require.NoError(t, err)
	assert.Empty(t, ids)
	ids, err = s.SharedWith(v.ID, 0)
	require.NoError(t, err)
	assert.Equal(t, []uint64{s1.ID}, ids)
	_, err = s.DeleteVolume("v")
	require.NoError(t, err)
	shared, err = s.SharedChunks(v.ID)
	require.NoError(t, err)
	assert.Empty(t, shared)
}
