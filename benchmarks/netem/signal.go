package netem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
)

// RewriteCandidates returns sdp with every UDP ICE candidate on 127.0.0.1 replaced by
// to, and the address the candidates had. It fails unless there is exactly one such
// address (a loopback-only peer has one).
func RewriteCandidates(sdp string, to netip.AddrPort) (string, netip.AddrPort, error) {
	var found netip.AddrPort
	lines := strings.Split(sdp, "\n")
	for i, line := range lines {
		l := strings.TrimRight(line, "\r")
		if !strings.HasPrefix(l, "a=candidate:") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 8 || !strings.EqualFold(f[2], "udp") {
			continue
		}
		ip, err := netip.ParseAddr(f[4])
		if err != nil || !ip.IsLoopback() {
			continue
		}
		port, err := strconv.ParseUint(f[5], 10, 16)
		if err != nil {
			return "", netip.AddrPort{}, fmt.Errorf("netem: candidate port %q", f[5])
		}
		ap := netip.AddrPortFrom(ip, uint16(port))
		if found.IsValid() && found != ap {
			return "", netip.AddrPort{}, fmt.Errorf("netem: more than one loopback candidate (%v, %v): use a loopback-only setting engine", found, ap)
		}
		found = ap
		f[4], f[5] = to.Addr().String(), strconv.Itoa(int(to.Port()))
		lines[i] = strings.Join(f, " ")
		if len(l) != len(line) {
			lines[i] += "\r"
		}
	}
	if !found.IsValid() {
		return "", netip.AddrPort{}, fmt.Errorf("netem: no UDP candidate on loopback in the SDP")
	}
	return strings.Join(lines, "\n"), found, nil
}

// SignalProxy wraps an asp server's HTTP handler: it passes everything through, but
// rewrites the candidates of the offer on POST /api/offer to the relay's server side and
// those of the answer to its client side, and tells the relay the real addresses.
func SignalProxy(next http.Handler, r *Relay) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/api/offer") {
			next.ServeHTTP(w, req)
			return
		}
		fail := func(err error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err != nil {
			fail(err)
			return
		}
		var offer map[string]any
		if err := json.Unmarshal(body, &offer); err != nil {
			fail(fmt.Errorf("netem: offer is not JSON: %w", err))
			return
		}
		sdp, _ := offer["sdp"].(string)
		sdp, client, err := RewriteCandidates(sdp, r.ServerSide())
		if err != nil {
			fail(err)
			return
		}
		r.SetClient(client)
		offer["sdp"] = sdp
		nb, _ := json.Marshal(offer)
		inner := req.Clone(req.Context())
		inner.Body = io.NopCloser(bytes.NewReader(nb))
		inner.ContentLength = int64(len(nb))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, inner)
		res := rec.Result()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode == http.StatusOK {
			var answer map[string]any
			if err := json.Unmarshal(out, &answer); err != nil {
				fail(fmt.Errorf("netem: answer is not JSON: %w", err))
				return
			}
			asdp, _ := answer["sdp"].(string)
			asdp, server, err := RewriteCandidates(asdp, r.ClientSide())
			if err != nil {
				fail(err)
				return
			}
			r.SetServer(server)
			answer["sdp"] = asdp
			out, _ = json.Marshal(answer)
		}
		for k, v := range res.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(out)
	})
}
