package checkpoint

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
)

// ErrMgmtConnectionReset is the error of an in-memory round trip whose
// handler aborted the request by panicking with http.ErrAbortHandler: the
// in-memory equivalent of a connection dropped after the request was
// written (an ambiguous outcome for a write, like a real reset).
var ErrMgmtConnectionReset = errors.New("checkpoint: in-memory connection reset by peer (handler aborted)")

// ErrMgmtNotLoopback is the error of an in-memory round trip for a host
// that is not loopback (127.0.0.1, ::1 or localhost).
var ErrMgmtNotLoopback = errors.New("checkpoint: in-memory test transport refuses a non-loopback host")

// NewMgmtMemoryTransport returns an in-memory http.RoundTripper that serves
// every request with h, without sockets, so that MgmtClient can be tested
// inside testing/synctest bubbles (real sockets must not be used there).
// It is the only kind of transport MgmtConfig.Transport accepts. It serves
// loopback hosts only (127.0.0.1, ::1, localhost): a request for any other
// host fails with ErrMgmtNotLoopback before h sees it, so it can never
// stand in for a verified TLS connection to a real server. The request is
// reported written (httptrace WroteRequest) before h runs; a handler that
// panics with http.ErrAbortHandler makes the round trip fail with
// ErrMgmtConnectionReset. The request's context is honoured before and
// after h runs.
func NewMgmtMemoryTransport(h http.Handler) http.RoundTripper {
	return &mgmtMemTransport{handler: h}
}

// mgmtMemTransport is NewMgmtMemoryTransport's transport.
type mgmtMemTransport struct{ handler http.Handler }

// RoundTrip implements http.RoundTripper with httptest.NewRecorder.
func (t *mgmtMemTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer func() { _ = req.Body.Close() }()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if req.URL == nil || !mgmtLoopback(req.URL.Host) || (req.Host != "" && !mgmtLoopback(req.Host)) {
		return nil, ErrMgmtNotLoopback
	}
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
	rec := httptest.NewRecorder()
	if mgmtServe(t.handler, rec, req) {
		if err := req.Context().Err(); err != nil {
			return nil, err // the client gave up first, as a real timeout
		}
		return nil, ErrMgmtConnectionReset
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// mgmtServe runs h and reports whether it aborted with http.ErrAbortHandler.
func mgmtServe(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
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

// mgmtLoopback reports whether hostport names 127.0.0.1, ::1 or localhost
// (with or without a port).
func mgmtLoopback(hostport string) bool {
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
