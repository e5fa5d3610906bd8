package scheduler

import (
	"fmt"
	"math/rand/v2"
)

// nodeShapes are heterogeneous machine types: CPU millicores, memory GiB, GPUs, encoder slots.
var nodeShapes = []struct {
	cpu, memGi, disk, gpu, enc int64
}{
	{8000, 32, 200, 0, 0},
	{16000, 64, 400, 0, 0},
	{32000, 128, 800, 0, 16},
	{48000, 192, 800, 0, 0},
	{64000, 256, 1600, 4, 32},
	{96000, 384, 1600, 8, 64},
	{12000, 48, 300, 0, 8},
	{24000, 96, 600, 1, 8},
}

var zones = []string{"a", "b", "c", "d"}

// randomNode builds node i of a realistic heterogeneous fleet: about one node in eight has
// GPUs (and a taint keeping other sessions off it).
func randomNode(rng *rand.Rand, i int) Node {
	var plain, gpu []int
	for k, sh := range nodeShapes {
		if sh.gpu > 0 {
			gpu = append(gpu, k)
		} else {
			plain = append(plain, k)
		}
	}
	pick := plain[rng.IntN(len(plain))]
	if rng.IntN(8) == 0 {
		pick = gpu[rng.IntN(len(gpu))]
	}
	sh := nodeShapes[pick]
	n := Node{
		Name: fmt.Sprintf("h%05d", i),
		Capacity: Resources{CPU: sh.cpu, Memory: sh.memGi << 30, Disk: sh.disk << 30,
			GPU: sh.gpu, EncoderSlots: sh.enc},
		Labels:  map[string]string{"zone": zones[rng.IntN(len(zones))], "pool": "general"},
		Volumes: []string{"pool-main"},
	}
	if sh.gpu > 0 {
		n.Labels["pool"] = "gpu"
		n.Taints = []Taint{{Key: "gpu", Value: "true", Effect: NoSchedule}}
	}
	if rng.IntN(4) == 0 {
		n.Volumes = append(n.Volumes, "pool-fast")
	}
	switch x := rng.IntN(100); {
	case x < 2:
		n.Draining = true
	case x < 3:
		n.Unhealthy = true
	case x < 4:
		n.Unschedulable = true
	}
	return n
}

// randomRequest draws from a mix of desktop and app session sizes.
func randomRequest(rng *rand.Rand, i int) *Request {
	r := &Request{ID: fmt.Sprintf("s%d", i)}
	switch x := rng.IntN(100); {
	case x < 45: // light app session
		r.Resources = Resources{CPU: 250 + 250*rng.Int64N(4), Memory: (1 + rng.Int64N(2)) << 30, Disk: 2 << 30}
	case x < 80: // office desktop
		r.Resources = Resources{CPU: 1000 + 1000*rng.Int64N(2), Memory: (4 + 4*rng.Int64N(2)) << 30, Disk: 20 << 30}
	case x < 92: // developer desktop
		r.Resources = Resources{CPU: 4000, Memory: 16 << 30, Disk: 50 << 30}
	case x < 97: // video session wanting an encoder slot
		r.Resources = Resources{CPU: 2000, Memory: 4 << 30, Disk: 10 << 30, EncoderSlots: 1}
	default: // 3D workstation
		r.Resources = Resources{CPU: 8000, Memory: 32 << 30, Disk: 100 << 30, GPU: 1, EncoderSlots: 1}
		r.Tolerations = []Toleration{{Key: "gpu", Operator: TolerateExists}}
	}
	switch x := rng.IntN(100); {
	case x < 20:
		r.NodeSelector = map[string]string{"zone": zones[rng.IntN(len(zones))]}
	case x < 25:
		r.Affinity = &NodeAffinity{Required: []Selector{{{Key: "zone", Operator: In, Values: []string{"a", "b"}}}}}
	case x < 30:
		r.Volumes = []string{"pool-fast"}
	}
	return r
}
