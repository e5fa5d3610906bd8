// Package netem emulates a network path between a WebRTC client and server on one machine:
// a bottleneck rate, an added delay and random loss, per direction.
//
// Link is the model, a pure state machine (packet size and arrival time in, delivery time
// or drop out): a token-bucket-like serializer at the bottleneck rate with a tail-drop
// queue bounded in time like a router's buffer (200 ms at the link rate by default; tc
// netem's 1000 packets would be seconds on a slow link), then a fixed propagation delay,
// with Bernoulli loss before the queue, raised during a scheduled loss burst
// (Link.SetBurst, Relay.SetBurst). Relay runs
// two Links, one per direction, between two UDP sockets on 127.0.0.1, and SignalProxy
// rewrites the ICE candidates in the offer and answer of an asp server so that each peer
// sees the other only through the relay. Both peers keep their real pion stacks on real
// loopback sockets.
//
// Why not pion/transport's vnet: vnet replaces the peers' whole network stack
// (SettingEngine.SetNet) with a virtual one whose addresses are not loopback, so the
// baseline run would no longer be the real socket path the product uses, and its router
// applies one delay to both directions with no bottleneck queue. A relay on loopback keeps
// the measured path real and makes the emulation a small, testable model.
//
// Specs are written like `tc netem`: "10mbit,20ms,0.5%" is 10 Mbit/s each way, 20 ms more
// round-trip time (10 ms each way) and 0.5 % loss each way; a fourth field sets the
// bottleneck queue in time ("2mbit,20ms,0%,100ms").
package netem
