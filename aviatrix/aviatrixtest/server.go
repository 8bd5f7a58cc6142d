package aviatrixtest

import (
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/internal/memtransport"
	"github.com/hitless/hitless/upgrade"
)

// ErrNotLoopback is the error of a request an in-memory transport
// (Fake.Transport, HandlerTransport) refuses: its URL's host, or its Host
// header, is not 127.0.0.1, ::1 or localhost. A test transport never opens
// a connection, so there is no certificate to verify; it must therefore
// never stand in for a connection to a real controller.
var ErrNotLoopback = memtransport.ErrNotLoopback

// InMemoryURL is the controller URL used with the in-memory transport:
// a loopback one, the only kind an in-memory transport serves.
const InMemoryURL = "https://localhost"

// server is the fake's TLS listener on loopback.
type server struct {
	ts *httptest.Server
}

// Start returns a fake controller (New(opts)) served over real TLS on
// 127.0.0.1 with an httptest certificate: use URL, CertPool and the
// credentials to reach it, or ClientConfig. Close it when done. Start must
// not be used inside a synctest bubble (real sockets).
func Start(opts Options) (*Fake, error) {
	f, err := New(opts)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("aviatrixtest: listen on loopback: %w", err)
	}
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: f, ErrorLog: log.New(io.Discard, "", 0)}}
	ts.StartTLS()
	f.srv = &server{ts: ts}
	return f, nil
}

// URL returns the controller URL: the TLS server's ("https://127.0.0.1:N")
// after Start, InMemoryURL otherwise.
func (f *Fake) URL() string {
	if f.srv != nil {
		return f.srv.ts.URL
	}
	return InMemoryURL
}

// CertPool returns a pool holding the TLS server's certificate (nil
// without Start): give it to aviatrix.Config.RootCAs.
func (f *Fake) CertPool() *x509.CertPool {
	if f.srv == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AddCert(f.srv.ts.Certificate())
	return p
}

// Certificate returns the TLS server's certificate (nil without Start).
func (f *Fake) Certificate() *x509.Certificate {
	if f.srv == nil {
		return nil
	}
	return f.srv.ts.Certificate()
}

// Close stops the TLS server, if any.
func (f *Fake) Close() {
	if f.srv != nil {
		f.srv.ts.Close()
	}
}

// Transport returns an http.RoundTripper that serves every request with
// the fake's handler in memory: no sockets, so it works inside
// testing/synctest bubbles. The request's context is honoured. It is one
// of the two kinds of transport aviatrix.Config.Transport accepts (the
// in-memory kind never opens a connection, so there is no certificate to
// verify), and like HandlerTransport it serves loopback hosts only
// (ErrNotLoopback otherwise).
func (f *Fake) Transport() http.RoundTripper { return HandlerTransport(f) }

// HandlerTransport returns an in-memory http.RoundTripper serving every
// request with h (for tests that script a controller's replies), of the
// kind aviatrix.Config.Transport accepts. It serves loopback hosts only
// (127.0.0.1, ::1, localhost, e.g. InMemoryURL): a request for any other
// host, by its URL or its Host header, fails with ErrNotLoopback before h
// sees it, so it can never stand in for a verified TLS connection to a
// real controller. A handler that panics with http.ErrAbortHandler makes
// the round trip fail with a transport error (a dropped connection).
func HandlerTransport(h http.Handler) http.RoundTripper {
	return &memtransport.Transport{Handler: h}
}

// ClientConfig returns an aviatrix.Config that reaches this fake (with
// Backoff/MaxBackoff scaled to its restart windows): over TLS
// with CertPool after Start, otherwise in memory (URL InMemoryURL,
// Transport). The caller may set more fields (Logger, Timeout, …).
func (f *Fake) ClientConfig() aviatrix.Config {
	cfg := aviatrix.Config{URL: f.URL(), APIPath: f.opts.APIPath, Username: f.opts.Username, Password: f.opts.Password,
		ReleaseListAction: f.opts.ReleaseListAction,
		// Retry at the pace of the fake's restart windows.
		Backoff:    min(aviatrix.DefaultBackoff, max(f.opts.NotReadyWindow/3, time.Millisecond)),
		MaxBackoff: min(aviatrix.DefaultMaxBackoff, max(f.opts.RestartWindow/2, time.Millisecond))}
	if f.srv != nil {
		cfg.RootCAs = f.CertPool()
	} else {
		cfg.Transport = f.Transport()
	}
	return cfg
}

// Fast sets millisecond durations for demos and examples over real time
// (a controller hop takes about 0.2 s, a gateway upgrade 50 ms). Use it as
// a NewWithPairs modifier or on Options, with FastTiming as the
// aviatrix.ClusterOptions Waits.
func Fast(o *Options) {
	o.PlatformUpgrade, o.RestartWindow, o.NotReadyWindow = 100*time.Millisecond, 60*time.Millisecond, 30*time.Millisecond
	o.GatewayUpgrade, o.ProbeEvery = 50*time.Millisecond, 5*time.Millisecond
}

// FastTiming returns aviatrix step timings that match Fast.
func FastTiming() aviatrix.Waits {
	return aviatrix.Waits{
		ControllerSettle: 20 * time.Millisecond, ControllerPoll: 10 * time.Millisecond, ControllerDeadline: 30 * time.Second,
		GatewayPoll: 10 * time.Millisecond, GatewayDeadline: 30 * time.Second,
		Verify: upgrade.Timing{Interval: 10 * time.Millisecond, MinHealthy: 20 * time.Millisecond, Deadline: 30 * time.Second},
	}
}
