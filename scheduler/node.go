package scheduler

import "slices"

// TaintEffect says what a taint does to requests that do not tolerate it.
type TaintEffect string

// Taint effects.
const (
	// NoSchedule keeps every request that does not tolerate the taint off the node.
	NoSchedule TaintEffect = "NoSchedule"
	// PreferNoSchedule is advisory: it never rejects a node.
	PreferNoSchedule TaintEffect = "PreferNoSchedule"
)

// Taint marks a node so that only requests that tolerate it land there (a GPU pool reserved
// for 3D workloads, a node under investigation).
type Taint struct {
	Key    string
	Value  string
	Effect TaintEffect
}

// TolerationOperator is how a toleration matches a taint's value.
type TolerationOperator string

// Toleration operators.
const (
	// TolerateEqual matches a taint with the same key and value.
	TolerateEqual TolerationOperator = "Equal"
	// TolerateExists matches any taint with the key (any key when Key is empty).
	TolerateExists TolerationOperator = "Exists"
)

// Toleration lets a request land on a node with a matching taint.
type Toleration struct {
	Key      string
	Operator TolerationOperator
	Value    string
	// Effect limits the toleration to one effect; empty tolerates all effects.
	Effect TaintEffect
}

// Tolerates reports whether t tolerates the taint.
func (t Toleration) Tolerates(taint Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Operator == TolerateExists {
		return t.Key == "" || t.Key == taint.Key
	}
	return t.Key == taint.Key && t.Value == taint.Value
}

// Node describes one host (or VM host) that sessions can be placed on. The scheduler copies
// it on AddNode/UpdateNode; change a node by calling UpdateNode again.
type Node struct {
	// Name identifies the node; unique within a Scheduler.
	Name string
	// Capacity is what the node offers: CPU millicores, memory and disk bytes, GPUs,
	// hardware-encoder session slots.
	Capacity Resources
	// Labels place the node in affinity groups ("zone", "pool", "gpu-model" ...).
	Labels map[string]string
	// Taints keep requests that do not tolerate them away.
	Taints []Taint
	// Volumes lists the volumes and storage pools this node can mount.
	Volumes []string
	// Unschedulable (cordoned): existing sessions stay, no new ones.
	Unschedulable bool
	// Draining: the node is being emptied, usually for scale-in or maintenance.
	Draining bool
	// Unhealthy: the node failed its health checks.
	Unhealthy bool
}

// Schedulable reports whether the node's state allows new sessions at all.
func (n *Node) Schedulable() bool { return !n.Unschedulable && !n.Draining && !n.Unhealthy }

// CanMount reports whether the node can mount the named volume or storage pool.
func (n *Node) CanMount(volume string) bool { return slices.Contains(n.Volumes, volume) }

func (n *Node) clone() Node {
	c := *n
	if n.Labels != nil {
		c.Labels = make(map[string]string, len(n.Labels))
		for k, v := range n.Labels {
			c.Labels[k] = v
		}
	}
	c.Taints = slices.Clone(n.Taints)
	c.Volumes = slices.Clone(n.Volumes)
	return c
}

// NodeInfo is the scheduler's view of a node: its description plus what is allocated on it.
// Plugins receive it read-only and must not keep it after they return.
type NodeInfo struct {
	node      Node
	allocated Resources
	sessions  int
	version   uint64
	removed   bool
	gen       uint32

	// index bookkeeping
	inv     [NumResources]float64 // score weight per unit free, per resource
	baseKey classKey              // class key without the band
	idx     int32
	class   int32
	bucket  int32
	pos     int32
}

// Node returns the node's description. Do not modify it.
func (ni *NodeInfo) Node() *Node { return &ni.node }

// Name returns the node's name.
func (ni *NodeInfo) Name() string { return ni.node.Name }

// Capacity returns the node's capacity.
func (ni *NodeInfo) Capacity() Resources { return ni.node.Capacity }

// Allocated returns the sum of the requests placed on the node.
func (ni *NodeInfo) Allocated() Resources { return ni.allocated }

// Free returns capacity minus allocation.
func (ni *NodeInfo) Free() Resources { return ni.node.Capacity.Sub(ni.allocated) }

// Sessions returns the number of placements currently on the node.
func (ni *NodeInfo) Sessions() int { return ni.sessions }

// Label returns the value of a label and whether it is set.
func (ni *NodeInfo) Label(key string) (string, bool) {
	v, ok := ni.node.Labels[key]
	return v, ok
}
