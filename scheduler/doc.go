// Package scheduler places sessions on hosts and says why when it cannot.
//
// A Scheduler holds nodes (CPU in millicores, so 0.1 vCPU is 100m; memory and disk in bytes;
// GPUs and hardware-encoder session slots as counts; labels for affinity groups; taints; the
// volumes a node can mount; cordoned, draining and unhealthy states) and places Requests on
// them through a framework of plugins at named extension points, as kube-scheduler does:
// pre-filter, filter, score (with optional normalize), reserve/unreserve and bind. Plugins
// are built from a Registry by name and listed per extension point in a Profile, score
// plugins with weights. The built-in plugins are NodeStatus, NodeResourcesFit (LeastAllocated
// by default, `(capacity − (allocated + request)) / capacity` weighted over resources and
// scaled to 0..100; MostAllocated packs load so other nodes empty for scale-in),
// NodeAffinity (node selectors, required and preferred label selectors with In, NotIn,
// Exists, DoesNotExist), TaintToleration and VolumeMount.
//
// When no node fits, Place returns a *NoFitError: per node and per plugin, in words a person
// can act on ("node h17: insufficient cpu: requested 2000m, free 500m of 8000m"), and in
// aggregate ("0/5000 nodes available: 4980 insufficient memory, 20 draining").
//
// # Scale
//
// Placement does not scan the fleet. Schedulable nodes are indexed in classes (same capacity
// band per resource, same NoSchedule taints, same values of the labels named with
// WithIndexedLabels) and, within a class, in buckets by their free score. A request's
// resource score on a node is the node's free score minus a request term that is bounded per
// class, so every bucket carries an upper bound on the score of its nodes; the search visits
// buckets best bound first across classes, runs the filters and scores on their nodes, and
// stops once no unvisited node can beat the best found by more than the tolerance (0.5% by
// default). The choice is thus provably within the tolerance of an exhaustive scan, not a
// sample's luck, and typically looks at one or two nodes. Updates after a placement or
// release are O(1). Score plugins other than NodeResourcesFit loosen the bound unless they
// implement ScoreBounder; normalizing plugins see only the evaluated candidates. Under
// MostAllocated the best-bound nodes are the fullest, and many lack room in one resource;
// classes are then also split by each node's bottleneck (its smallest free fraction) so that
// nearly exhausted nodes are skipped in bulk, but the search still walks past more nodes (a
// few percent of a packed fleet) than under LeastAllocated (one or two).
//
// Place is safe for concurrent use: searches run in parallel under a read lock; the choice is
// committed under the write lock after re-running the filters on the node if it changed
// meanwhile, so a node is never over-committed. The package does no I/O: Bind plugins carry
// decisions out.
//
// Sub-packages: broker assigns desktop-group VMs to users (dedicated and shared modes,
// reconnect affinity, maintenance); autoscale decides scale-out, scale-in and self-healing.
package scheduler
