// Package memtransport is the in-memory http.RoundTripper behind package
// aviatrixtest's Fake.Transport and HandlerTransport. It lives in an
// internal package so that package aviatrix can recognise it by type
// (Config.Transport accepts it: it never opens a connection, so there is no
// TLS peer to verify) while nothing outside the aviatrix tree can construct
// one except through aviatrixtest.
package memtransport

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
)

// ErrConnectionReset is returned by RoundTrip when the handler aborts the
// request by panicking with http.ErrAbortHandler: the in-memory equivalent
// of a connection dropped before the reply (an ambiguous outcome for a
// write, like a real reset).
var ErrConnectionReset = errors.New("memtransport: connection reset by peer (handler aborted)")

// ErrNotLoopback is returned by RoundTrip for a request whose host is not
// loopback (127.0.0.1, ::1 or localhost).
var ErrNotLoopback = errors.New("memtransport: in-memory test transport refuses a non-loopback host")

// Transport serves every request with Handler in memory, without sockets,
// so it works inside testing/synctest bubbles. The request's context is
// honoured before and after the handler runs. Only loopback hosts are
// served (see Loopback): a request for any other host is refused with
// ErrNotLoopback before the handler sees it, so a test transport can never
// stand in for a verified connection to a real server.
type Transport struct {
	// Handler answers the requests; required.
	Handler http.Handler
}

// RoundTrip implements http.RoundTripper with httptest.NewRecorder. A
// handler that panics with http.ErrAbortHandler yields ErrConnectionReset;
// any other panic propagates.
func (t *Transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		defer func() { _ = req.Body.Close() }()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if req.URL == nil || !Loopback(req.URL.Host) || (req.Host != "" && !Loopback(req.Host)) {
		return nil, ErrNotLoopback
	}
	rec := httptest.NewRecorder()
	if aborted := serve(t.Handler, rec, req); aborted {
		return nil, ErrConnectionReset
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp = rec.Result()
	resp.Request = req
	return resp, nil
}

// serve runs h and reports whether it aborted with http.ErrAbortHandler.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { //nolint:errorlint // net/http compares the sentinel the same way
				aborted = true
				return
			}
			panic(p)
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// Loopback reports whether hostport (a URL's host, with or without a
// port; IPv6 in brackets) names the loopback host: 127.0.0.1, ::1 or
// localhost (any case). Other names, even ones that resolve to loopback,
// and other addresses of 127.0.0.0/8 are not accepted: the check needs no
// resolver and leaves no doubt.
func Loopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}
