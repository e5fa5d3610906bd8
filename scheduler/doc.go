// Package scheduler places sessions on hosts and brokers desktops to users. A framework of
// filter and score plugins chooses a node for each request and says why every other node was
// rejected; the broker binds users to dedicated or shared desktops, and the autoscaler keeps
// the fleet sized to demand. It does no I/O of its own: state comes in through small interfaces.
package scheduler
