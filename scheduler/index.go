package scheduler

import (
	"math"
	"math/bits"
	"slices"
	"strings"
)

// The node index. Schedulable nodes are grouped into shape classes (nodes whose capacities
// fall within the same ~9% band per resource) and, inside a class, into buckets by their
// "free score" s0 = Σ inv_r·free_r, the NodeResourcesFit score of an empty request. For a
// request q a node's resource score is exactly s0 − Σ inv_r·q_r (LeastAllocated) or
// 100 − s0 + Σ inv_r·q_r (MostAllocated), and within a class the request term lies between
// bounds computed from the class's largest and smallest capacities. So a bucket gives an upper
// bound on the score of every node in it, and the search can visit buckets best-bound first
// across classes and stop as soon as no unvisited node can beat the best one found (within
// the configured tolerance). Updating a node after a placement is O(1).

const (
	numBuckets  = 1024
	bucketWidth = MaxNodeScore / numBuckets
	bitWords    = numBuckets / 64
	// classSteps is how many shape classes there are per doubling of a capacity.
	classSteps = 8
)

// classKey groups nodes that share a capacity band per resource, the same NoSchedule taints
// and the same values of the indexed labels, so taints and selectors on indexed labels can be
// decided once per class.
type classKey struct {
	shape  [NumResources]int16
	taints string
	labels string
	band   int8
}

func (s *Scheduler) classKeyOf(n *Node) (classKey, []Taint, map[string]string) {
	var k classKey
	for r, v := range n.Capacity {
		if v <= 0 {
			continue
		}
		k.shape[r] = int16(math.Floor(math.Log2(float64(v))*classSteps)) + 1
	}
	var taints []Taint
	for _, t := range n.Taints {
		if t.Effect == NoSchedule {
			taints = append(taints, t)
		}
	}
	slices.SortFunc(taints, func(a, b Taint) int { return strings.Compare(a.Key+"\x00"+a.Value, b.Key+"\x00"+b.Value) })
	var b strings.Builder
	for _, t := range taints {
		b.WriteString(t.Key + "\x00" + t.Value + "\x01")
	}
	k.taints = b.String()
	b.Reset()
	var labels map[string]string
	for _, key := range s.indexedLabels {
		if v, ok := n.Labels[key]; ok {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[key] = v
			b.WriteString("=" + v + "\x01")
		} else {
			b.WriteString("\x00\x01")
		}
	}
	k.labels = b.String()
	return k, taints, labels
}

// admits reports whether the class's shared taints and indexed labels allow the request;
// false means no node of the class can pass the TaintToleration and NodeAffinity filters.
func (s *Scheduler) admits(sc *shapeClass, req *Request) bool {
	if s.fw.taintFilter {
	next:
		for _, t := range sc.taints {
			for _, tol := range req.Tolerations {
				if tol.Tolerates(t) {
					continue next
				}
			}
			return false
		}
	}
	if !s.fw.affinityFilter || len(s.indexedLabels) == 0 {
		return true
	}
	for k, v := range req.NodeSelector {
		if s.isIndexedLabel(k) {
			if got, ok := sc.labels[k]; !ok || got != v {
				return false
			}
		}
	}
	if req.Affinity == nil || len(req.Affinity.Required) == 0 {
		return true
	}
	for _, term := range req.Affinity.Required {
		possible := true
		for _, r := range term {
			if s.isIndexedLabel(r.Key) && !r.Matches(sc.labels) {
				possible = false
				break
			}
		}
		if possible {
			return true
		}
	}
	return false
}

func (s *Scheduler) isIndexedLabel(k string) bool { return slices.Contains(s.indexedLabels, k) }

type shapeClass struct {
	key     classKey
	taints  []Taint
	labels  map[string]string
	mUpper  float64 // every node's bottleneck free fraction is below this
	maxCap  Resources
	minCap  Resources
	wnorm   [NumResources]float64 // 100·w_r/Σw over resources this class has (cap>0)
	scored  bool
	buckets [numBuckets][]int32
	bits    [bitWords]uint64
	count   int
}

func newShapeClass(k classKey, c Resources, s ScoringStrategy) *shapeClass {
	sc := &shapeClass{key: k, maxCap: c, minCap: c}
	var wsum float64
	for r := range c {
		if c[r] > 0 && s.Weights[r] > 0 {
			wsum += s.Weights[r]
		}
	}
	if wsum > 0 {
		sc.scored = true
		for r := range c {
			if c[r] > 0 && s.Weights[r] > 0 {
				sc.wnorm[r] = MaxNodeScore * s.Weights[r] / wsum
			}
		}
	}
	return sc
}

// nodeInv computes a node's per-unit score weights.
func (sc *shapeClass) nodeInv(c Resources) (inv [NumResources]float64) {
	for r := range c {
		if sc.wnorm[r] > 0 {
			inv[r] = sc.wnorm[r] / float64(c[r])
		}
	}
	return inv
}

func freeScore(ni *NodeInfo) float64 {
	var s float64
	for r := range ni.inv {
		if ni.inv[r] != 0 {
			f := ni.node.Capacity[r] - ni.allocated[r]
			if f < 0 {
				f = 0
			}
			s += ni.inv[r] * float64(f)
		}
	}
	return s
}

func bucketOf(s0 float64) int32 {
	b := int32(s0 / bucketWidth)
	if b < 0 {
		return 0
	}
	if b >= numBuckets {
		return numBuckets - 1
	}
	return b
}

func (sc *shapeClass) insert(ni *NodeInfo, b int32) {
	ni.bucket = b
	ni.pos = int32(len(sc.buckets[b]))
	sc.buckets[b] = append(sc.buckets[b], ni.idx)
	sc.bits[b>>6] |= 1 << (uint(b) & 63)
	sc.count++
}

func (sc *shapeClass) remove(ni *NodeInfo, nodes []*NodeInfo) {
	b := ni.bucket
	lst := sc.buckets[b]
	last := len(lst) - 1
	moved := lst[last]
	lst[ni.pos] = moved
	nodes[moved].pos = ni.pos
	sc.buckets[b] = lst[:last]
	if last == 0 {
		sc.bits[b>>6] &^= 1 << (uint(b) & 63)
	}
	ni.bucket, ni.pos = -1, -1
	sc.count--
}

// highestBelow returns the highest non-empty bucket ≤ from, or -1.
func (sc *shapeClass) highestBelow(from int32) int32 {
	if from < 0 {
		return -1
	}
	w := from >> 6
	word := sc.bits[w] & (^uint64(0) >> (63 - uint(from&63)))
	for {
		if word != 0 {
			return w<<6 + int32(63-bits.LeadingZeros64(word))
		}
		w--
		if w < 0 {
			return -1
		}
		word = sc.bits[w]
	}
}

// lowestAbove returns the lowest non-empty bucket ≥ from, or -1.
func (sc *shapeClass) lowestAbove(from int32) int32 {
	if from >= numBuckets {
		return -1
	}
	w := from >> 6
	word := sc.bits[w] & (^uint64(0) << uint(from&63))
	for {
		if word != 0 {
			return w<<6 + int32(bits.TrailingZeros64(word))
		}
		w++
		if w >= bitWords {
			return -1
		}
		word = sc.bits[w]
	}
}

// cursor walks one class's buckets best-first for one request.
type cursor struct {
	class *shapeClass
	b     int32
	bound float64
	pen   float64 // the request term used in the bound
}

func (s *Scheduler) bucketBound(c *cursor) float64 {
	if !c.class.scored {
		return 0
	}
	if s.strategy.Type == MostAllocated {
		return MaxNodeScore - float64(c.b)*bucketWidth + c.pen
	}
	return float64(c.b+1)*bucketWidth - c.pen
}

func (s *Scheduler) advance(c *cursor) bool {
	if s.strategy.Type == MostAllocated {
		c.b = c.class.lowestAbove(c.b + 1)
	} else {
		c.b = c.class.highestBelow(c.b - 1)
	}
	if c.b < 0 {
		return false
	}
	c.bound = s.bucketBound(c)
	return true
}

func (s *Scheduler) firstCursor(sc *shapeClass, r *Request) (cursor, bool) {
	c := cursor{class: sc}
	if sc.count == 0 || !s.admits(sc, r) {
		return c, false
	}
	req := &r.Resources
	if sc.key.band != 0 {
		// a node fits only if its bottleneck free fraction m ≥ q_r/cap_r for the bottleneck
		// resource r, so m ≥ min_r q_r/maxCap_r; the band guarantees m < mUpper
		need := math.Inf(1)
		for k := range req {
			if sc.wnorm[k] > 0 {
				need = min(need, float64(req[k])/float64(sc.maxCap[k]))
			}
		}
		if need >= sc.mUpper {
			return c, false
		}
	}
	for r := range req {
		if req[r] > sc.maxCap[r] {
			return c, false // no node of this shape can ever fit
		}
	}
	// penLow ≤ Σ inv_r·q_r ≤ penHigh for every node of the class. A node fits only if its
	// free score s0 = Σ inv_r·free_r ≥ Σ inv_r·q_r ≥ penLow, so lower buckets hold no fit.
	var penLow, penHigh float64
	for r := range req {
		if sc.wnorm[r] == 0 || req[r] == 0 {
			continue
		}
		penHigh += sc.wnorm[r] * float64(req[r]) / float64(sc.minCap[r])
		penLow += sc.wnorm[r] * float64(req[r]) / float64(sc.maxCap[r])
	}
	c.pen = penLow
	if s.strategy.Type == MostAllocated {
		c.pen = penHigh
		c.b = sc.lowestAbove(max(0, bucketOf(penLow*(1-1e-9))-1))
	} else {
		c.b = sc.highestBelow(numBuckets - 1)
	}
	if c.b < 0 {
		return c, false
	}
	c.bound = s.bucketBound(&c)
	return c, true
}

// nodeResourceScore is resourceScore computed from the node's cached weights.
func (s *Scheduler) nodeResourceScore(ni *NodeInfo, req *Resources) float64 {
	var sc float64
	if s.strategy.Type == MostAllocated {
		for r := range ni.inv {
			if ni.inv[r] != 0 {
				sc += ni.inv[r] * float64(ni.allocated[r]+req[r])
			}
		}
		return sc
	}
	for r := range ni.inv {
		if ni.inv[r] != 0 {
			sc += ni.inv[r] * float64(ni.node.Capacity[r]-ni.allocated[r]-req[r])
		}
	}
	return sc
}

// indexNode puts a schedulable node into its class and bucket (s.mu held for writing).
func (s *Scheduler) indexNode(ni *NodeInfo) {
	ni.class, ni.bucket, ni.pos = -1, -1, -1
	if ni.removed || !ni.node.Schedulable() {
		return
	}
	k, taints, labels := s.classKeyOf(&ni.node)
	ni.baseKey = k
	ci := s.classFor(k, ni.node.Capacity, taints, labels)
	ni.inv = s.classes[ci].nodeInv(ni.node.Capacity)
	if b := s.bandOf(ni); b != 0 {
		k.band = b
		ci = s.classFor(k, ni.node.Capacity, taints, labels)
	}
	ni.class = ci
	s.classes[ci].insert(ni, bucketOf(freeScore(ni)))
}

// classFor finds or creates the class for a key and widens its capacity range to include c.
func (s *Scheduler) classFor(k classKey, c Resources, taints []Taint, labels map[string]string) int32 {
	ci, ok := s.classByKey[k]
	if !ok {
		ci = int32(len(s.classes))
		sc := newShapeClass(k, c, s.strategy)
		sc.taints, sc.labels = taints, labels
		sc.mUpper = bandUpper[k.band]
		s.classes = append(s.classes, sc)
		s.classByKey[k] = ci
	}
	sc := s.classes[ci]
	for r, v := range c {
		sc.maxCap[r] = max(sc.maxCap[r], v)
		sc.minCap[r] = min(sc.minCap[r], v)
	}
	return ci
}

// Bands split classes by a node's bottleneck: the smallest free fraction over its weighted
// resources. Under MostAllocated the fullest nodes score best but often lack room in one
// resource; a band whose bottleneck is below what a request needs is skipped whole.
var bandUpper = [...]float64{math.Inf(1), 1.0 / 64, 1.0 / 32, 1.0 / 16, 1.0 / 8}

// bandOf returns the node's band: 0 (no bottleneck, or not MostAllocated), else 1..4 for a
// bottleneck free fraction below 1/64, 1/32, 1/16, 1/8.
func (s *Scheduler) bandOf(ni *NodeInfo) int8 {
	if s.strategy.Type != MostAllocated {
		return 0
	}
	m := math.Inf(1)
	for r := range ni.inv {
		if ni.inv[r] == 0 {
			continue
		}
		f := float64(max(0, ni.node.Capacity[r]-ni.allocated[r])) / float64(ni.node.Capacity[r])
		m = min(m, f)
	}
	for b := int8(1); b < int8(len(bandUpper)); b++ {
		if m < bandUpper[b] {
			return b
		}
	}
	return 0
}

// unindexNode takes a node out of the index (s.mu held for writing).
func (s *Scheduler) unindexNode(ni *NodeInfo) {
	if ni.class < 0 || ni.bucket < 0 {
		ni.class = -1
		return
	}
	s.classes[ni.class].remove(ni, s.nodes)
	ni.class = -1
}

// reindexAllocation moves a node to the bucket of its new free score after its allocation
// changed (s.mu held for writing).
func (s *Scheduler) reindexAllocation(ni *NodeInfo) {
	if ni.class < 0 {
		return
	}
	sc := s.classes[ni.class]
	if band := s.bandOf(ni); band != sc.key.band {
		sc.remove(ni, s.nodes)
		k := ni.baseKey
		k.band = band
		ni.class = s.classFor(k, ni.node.Capacity, sc.taints, sc.labels)
		s.classes[ni.class].insert(ni, bucketOf(freeScore(ni)))
		return
	}
	b := bucketOf(freeScore(ni))
	if b == ni.bucket {
		return
	}
	sc.remove(ni, s.nodes)
	sc.insert(ni, b)
}
