// Package asp is the Adaptive Streaming Protocol: it carries a remote desktop or a single
// application from the data centre to a browser or thin client. Display frames travel down as
// video, the cursor as images and positions, and keyboard, mouse and clipboard travel up, each
// on a virtual channel with its own priority. Sub-packages split the work by concern: capture
// (X11), codec (VP8/VP9/H.264), input (the event model and XTEST injection) and client (the
// native Go client SDK). See PROTOCOL.md for the wire format.
package asp
