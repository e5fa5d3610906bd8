package meta

import (
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
)

// Replicas is the number of copies of every chunk.
const Replicas = 3

// ErrNotEnoughNodes is returned when too few healthy nodes exist to place a replica set.
var ErrNotEnoughNodes = errors.New("meta: not enough healthy nodes")

// Node is a chunk server as the metadata service knows it.
type Node struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	// Zone, Rack and Host are failure-domain labels, from widest to narrowest.
	Zone string `json:"zone"`
	Rack string `json:"rack"`
	Host string `json:"host"`
	// Healthy is false when the node missed its heartbeats or was marked down.
	Healthy bool `json:"healthy"`
	// LastSeenUnixMilli is the time of the node's last heartbeat.
	LastSeenUnixMilli int64 `json:"last_seen_unix_milli"`
}

// Place chooses want nodes for a chunk, keeping the ones in keep (already holding the
// chunk) and never choosing one in avoid. Each pick prefers a node in a zone not yet used,
// then a rack not yet used, then a host not yet used, then the least loaded; ties are broken
// by a hash of the chunk key so chunks spread evenly. It is a pure function.
func Place(nodes []Node, keep []string, avoid []string, want int, load map[string]int, key string) ([]string, error) {
	byID := map[string]Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	chosen := append([]string(nil), keep...)
	used := map[string]bool{}
	for _, id := range keep {
		used[id] = true
	}
	for _, id := range avoid {
		used[id] = true
	}
	for len(chosen) < want {
		var cands []Node
		for _, n := range nodes {
			if n.Healthy && !used[n.ID] {
				cands = append(cands, n)
			}
		}
		if len(cands) == 0 {
			return nil, fmt.Errorf("%w: have %d of %d replicas for %s", ErrNotEnoughNodes, len(chosen), want, key)
		}
		score := func(n Node) [5]uint64 {
			var s [5]uint64
			for _, id := range chosen {
				c := byID[id]
				if c.Zone == n.Zone {
					s[0]++
				}
				if c.Zone == n.Zone && c.Rack == n.Rack {
					s[1]++
				}
				if c.Zone == n.Zone && c.Rack == n.Rack && c.Host == n.Host {
					s[2]++
				}
			}
			s[3] = uint64(load[n.ID])
			h := fnv.New64a()
			h.Write([]byte(key + "\x00" + n.ID))
			s[4] = h.Sum64()
			return s
		}
		sort.Slice(cands, func(i, j int) bool {
			a, b := score(cands[i]), score(cands[j])
			for k := range a {
				if a[k] != b[k] {
					return a[k] < b[k]
				}
			}
			return cands[i].ID < cands[j].ID
		})
		chosen = append(chosen, cands[0].ID)
		used[cands[0].ID] = true
	}
	return chosen, nil
}
