// Package fakeremote serves an in-memory fake cluster
// (upgradetest.Cluster) over plain HTTP on 127.0.0.1, and gives the client
// side as an upgrade.Cluster, so that a fake can live in one process
// (examples/simulator -vendor fake) while another one upgrades it, crashes
// and resumes from its journal (examples/fleet with `address:`).
//
// It is a test double, not a vendor protocol: the server listens on
// loopback only, and the client refuses any address that is not loopback
// (there is no TLS). Requests carry the password as a bearer token,
// compared in constant time; it never appears in errors.
//
// The API (JSON):
//
//	GET  /v1/cluster                  {"name", "members": ["a", "b"]}
//	GET  /v1/members/{id}/status      upgrade.MemberState, or 503 {"error"} while it reboots
//	POST /v1/members/{id}/install     {"target": "8.2.1"}
//	POST /v1/members/{id}/rollback    {"to": "8.1.7"}
//	POST /v1/failover                 {"to": "b"}
//	GET  /v1/probe                    {"ticks", "lost_ticks", "forwarding"}
package fakeremote

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

// Server serves one fake cluster on 127.0.0.1. Close it when done.
type Server struct {
	c    *upgradetest.Cluster
	pw   string
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Serve starts serving c on 127.0.0.1 (a free port; see Addr), requiring
// password as the bearer token. The password must not be empty.
func Serve(c *upgradetest.Cluster, password string) (*Server, error) {
	if c == nil || password == "" {
		return nil, errors.New("fakeremote: Serve needs a cluster and a password")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeremote: listen on loopback: %w", err)
	}
	s := &Server{c: c, pw: password, ln: ln, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/cluster", s.cluster)
	mux.HandleFunc("GET /v1/members/{id}/status", s.status)
	mux.HandleFunc("POST /v1/members/{id}/install", s.install)
	mux.HandleFunc("POST /v1/members/{id}/rollback", s.rollback)
	mux.HandleFunc("POST /v1/failover", s.failover)
	mux.HandleFunc("GET /v1/probe", s.probe)
	s.srv = &http.Server{Handler: s.auth(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

func (s *Server) auth(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.pw)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication failed"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) member(w http.ResponseWriter, r *http.Request) *upgradetest.Member {
	m := s.c.Member(r.PathValue("id"))
	if m == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no member %q", r.PathValue("id"))})
	}
	return m
}

func (s *Server) cluster(w http.ResponseWriter, _ *http.Request) {
	var names []string
	for _, m := range s.c.Members() {
		names = append(names, m.ID())
	}
	writeJSON(w, http.StatusOK, clusterInfo{Name: s.c.Name(), Members: names})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	m := s.member(w, r)
	if m == nil {
		return
	}
	st, err := m.Status(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// decode reads a small JSON body into v.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request: " + err.Error()})
		return false
	}
	return true
}

func (s *Server) act(w http.ResponseWriter, err error) {
	if err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) install(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Target string `json:"target"`
	}
	if m := s.member(w, r); m != nil && decode(w, r, &req) {
		s.act(w, m.Install(r.Context(), req.Target))
	}
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To string `json:"to"`
	}
	if m := s.member(w, r); m != nil && decode(w, r, &req) {
		s.act(w, m.Rollback(r.Context(), req.To))
	}
}

func (s *Server) failover(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To string `json:"to"`
	}
	if decode(w, r, &req) {
		s.act(w, s.c.Failover(r.Context(), req.To))
	}
}

func (s *Server) probe(w http.ResponseWriter, _ *http.Request) {
	p := s.c.Probe
	writeJSON(w, http.StatusOK, Probe{Ticks: p.Ticks(), LostTicks: p.LostTicks(), Forwarding: p.Forwarding()})
}

// clusterInfo is GET /v1/cluster.
type clusterInfo struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Probe is the fake's traffic probe, as GET /v1/probe reports it.
type Probe struct {
	// Ticks counts probe ticks since the fake started.
	Ticks int `json:"ticks"`
	// LostTicks counts the ticks when no member forwarded.
	LostTicks int `json:"lost_ticks"`
	// Forwarding says whether the cluster forwards now.
	Forwarding bool `json:"forwarding"`
}

// Config says how to reach a served fake.
type Config struct {
	// Name is the cluster name in plans, journals and reports; "" means
	// the served fake's own name.
	Name string
	// Addr is "127.0.0.1:port" (loopback only).
	Addr string
	// Password is the bearer token the server was started with.
	Password string
	// Timeout bounds one request; 0 means 10 s.
	Timeout time.Duration
}

// ErrNotLoopback: Config.Addr is not a loopback address.
var ErrNotLoopback = errors.New("fakeremote: the fake is served on loopback only")

// ErrAuth: the server refused the password.
var ErrAuth = errors.New("fakeremote: authentication failed")

// ErrUnreachable: the member is rebooting (the server answered 503) or
// the server cannot be reached.
var ErrUnreachable = errors.New("fakeremote: member unreachable")

// Cluster is a served fake as an upgrade.Cluster; its members implement
// upgrade.Member and upgrade.Rollbacker.
type Cluster struct {
	name    string
	base    string
	pw      string
	hc      *http.Client
	members []upgrade.Member
}

// Dial reads the served fake's members and returns the Cluster.
func Dial(ctx context.Context, cfg Config) (*Cluster, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("fakeremote: address %q: want host:port", cfg.Addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: %s is not loopback", ErrNotLoopback, cfg.Addr)
	}
	if cfg.Password == "" {
		return nil, errors.New("fakeremote: a password is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	c := &Cluster{base: "http://" + cfg.Addr, pw: cfg.Password, hc: &http.Client{Timeout: cfg.Timeout}}
	var info clusterInfo
	if err := c.call(ctx, http.MethodGet, "/v1/cluster", nil, &info); err != nil {
		return nil, err
	}
	c.name = info.Name
	if cfg.Name != "" {
		c.name = cfg.Name
	}
	for _, n := range info.Members {
		c.members = append(c.members, &member{c: c, id: n})
	}
	return c, nil
}

// call does one request; out, if set, receives the JSON reply.
func (c *Cluster) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.pw)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, path, strings.ReplaceAll(err.Error(), c.pw, "********"))
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return ErrAuth
		case http.StatusServiceUnavailable:
			return fmt.Errorf("%w: %s", ErrUnreachable, e.Error)
		}
		return fmt.Errorf("fakeremote: %s %s: HTTP %d: %s", method, path, resp.StatusCode, e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("fakeremote: %s %s: bad reply: %w", method, path, err)
		}
	}
	return nil
}

// Close releases the client's idle connections.
func (c *Cluster) Close() { c.hc.CloseIdleConnections() }

// Name implements upgrade.Cluster.
func (c *Cluster) Name() string { return c.name }

// Members implements upgrade.Cluster.
func (c *Cluster) Members() []upgrade.Member { return append([]upgrade.Member(nil), c.members...) }

// Observe implements upgrade.Cluster: a member that cannot be read is
// reported down, unhealthy, with the error as its problem.
func (c *Cluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	s := upgrade.Snapshot{Cluster: c.name, At: time.Now()}
	for _, m := range c.members {
		st, err := m.Status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return upgrade.Snapshot{}, ctx.Err()
			}
			if errors.Is(err, ErrAuth) {
				return upgrade.Snapshot{}, err
			}
			st = upgrade.MemberState{ID: m.ID(), Role: upgrade.RoleDown, Problems: []string{err.Error()}}
		}
		s.Members = append(s.Members, st)
	}
	return s, nil
}

// Failover implements upgrade.Cluster.
func (c *Cluster) Failover(ctx context.Context, to string) error {
	return c.call(ctx, http.MethodPost, "/v1/failover", map[string]string{"to": to}, nil)
}

// Probe reads the served fake's traffic probe.
func (c *Cluster) Probe(ctx context.Context) (Probe, error) {
	var p Probe
	err := c.call(ctx, http.MethodGet, "/v1/probe", nil, &p)
	return p, err
}

// member is one served member.
type member struct {
	c  *Cluster
	id string
}

// ID implements upgrade.Member.
func (m *member) ID() string { return m.id }

// Status implements upgrade.Member.
func (m *member) Status(ctx context.Context) (upgrade.MemberState, error) {
	var st upgrade.MemberState
	if err := m.c.call(ctx, http.MethodGet, "/v1/members/"+url.PathEscape(m.id)+"/status", nil, &st); err != nil {
		return upgrade.MemberState{}, fmt.Errorf("member %s: %w", m.id, err)
	}
	return st, nil
}

// Install implements upgrade.Member.
func (m *member) Install(ctx context.Context, target string) error {
	if err := m.c.call(ctx, http.MethodPost, "/v1/members/"+url.PathEscape(m.id)+"/install", map[string]string{"target": target}, nil); err != nil {
		return fmt.Errorf("member %s: install %s: %w", m.id, target, err)
	}
	return nil
}

// Rollback implements upgrade.Rollbacker.
func (m *member) Rollback(ctx context.Context, to string) error {
	if err := m.c.call(ctx, http.MethodPost, "/v1/members/"+url.PathEscape(m.id)+"/rollback", map[string]string{"to": to}, nil); err != nil {
		return fmt.Errorf("member %s: rollback to %s: %w", m.id, to, err)
	}
	return nil
}
