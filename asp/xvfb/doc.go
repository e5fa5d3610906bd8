// Package xvfb starts and stops headless X servers (Xvfb) for streaming sessions and tests.
//
// Start launches Xvfb on a display number the server picks itself (through -displayfd, so
// parallel tests never race for a number), with TCP listening off, MIT-SHM on and no reset
// when the last client leaves, and returns once the server accepts connections. Close
// terminates it and waits for it to exit. Server.Command prepares a client program (an
// xterm, a browser, the application being streamed) with DISPLAY pointing at the server.
package xvfb
