package checkpointtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/checkpoint"
)

// Defaults of the fake management server (MgmtServer).
const (
	// DefaultMgmtUser and DefaultMgmtPassword are the administrator the
	// fake accepts when MgmtOptions.Users is nil.
	DefaultMgmtUser     = "admin"
	DefaultMgmtPassword = "Hitless-Mgmt-Passw0rd!"
	// DefaultMgmtAPIKey is the API key the fake accepts when
	// MgmtOptions.APIKeys is nil.
	DefaultMgmtAPIKey = "hitlessFakeApiKey0123456789abcdefXYZ"
	// DefaultMgmtPolicyPackage is the policy package the fake knows when
	// MgmtOptions.PolicyPackages is nil.
	DefaultMgmtPolicyPackage = "Standard"
	// MgmtInMemoryURL is the server URL of an in-memory fake
	// (NewMgmtServerInMemory): a loopback one, the only kind the in-memory
	// transport serves.
	MgmtInMemoryURL = "https://localhost"
)

// Policy results a MgmtOptions.PolicyResult callback returns.
const (
	// MgmtPolicySucceeded: the member installs the policy.
	MgmtPolicySucceeded = "succeeded"
	// MgmtPolicyFailed: the member fails its install with a generic
	// message. Any other non-empty text also fails, with that text as the
	// error message.
	MgmtPolicyFailed = "failed"
)

// MgmtMember is a cluster member (or VSX cluster member) object of the
// fake.
type MgmtMember struct {
	// Name is the member's object name.
	Name string
	// IPAddress is its main address (shown as ip-address).
	IPAddress string
	// Version is the version the member runs, as get-platform reports it;
	// "" means the cluster object's version. Change it later with
	// MgmtServer.SetPlatform (or answer get-platform with
	// MgmtOptions.Platform).
	Version string
}

// MgmtCluster is a ClusterXL cluster object (simple-cluster) of the fake.
type MgmtCluster struct {
	// Name is the object name; required.
	Name string
	// Version is the object's version, e.g. "R81.10"; required.
	Version string
	// Hardware defaults to "Open server", OSName to "Gaia".
	Hardware, OSName string
	// Members are the cluster members, in priority order.
	Members []MgmtMember
}

// MgmtVSXCluster is a VSX cluster object of the fake with its Virtual
// Systems (each an install-policy target installed on every member).
type MgmtVSXCluster struct {
	// Name is the object name; required.
	Name string
	// Version is the object's version; required.
	Version string
	// Members are the VSX cluster members.
	Members []MgmtMember
	// VirtualSystems are the Virtual System object names.
	VirtualSystems []string
}

// MgmtOptions configures a fake management server. Zero values take the
// defaults noted.
type MgmtOptions struct {
	// Users maps administrator names to passwords; nil means
	// {DefaultMgmtUser: DefaultMgmtPassword}.
	Users map[string]string
	// APIKeys are the accepted API keys; nil means {DefaultMgmtAPIKey}.
	APIKeys []string
	// Domains are the domains a login may name (as on a Multi-Domain
	// Server); a login without a domain is always accepted. nil accepts any
	// domain.
	Domains []string
	// SessionTimeout is a session's timeout when the login asks for none
	// (default 600 s, the session-timeout of every vendor login sample).
	SessionTimeout time.Duration
	// KeepaliveOnly makes only login and keepalive extend a session: the
	// strict model, under which a client that does not send keepalive
	// loses its session during a long wait. Otherwise every call with the
	// session ID extends it.
	KeepaliveOnly bool
	// ExpiredCode is the error code for an expired or unknown session ID
	// (HTTP 401); default "generic_err_wrong_session_id".
	ExpiredCode string
	// APIServerVersion is the login reply's api-server-version (default
	// "1.9").
	APIServerVersion string
	// PolicyPackages are the known policy packages; nil means
	// {DefaultMgmtPolicyPackage}.
	PolicyPackages []string
	// Clusters are the ClusterXL cluster objects.
	Clusters []MgmtCluster
	// VSXClusters are the VSX cluster objects.
	VSXClusters []MgmtVSXCluster
	// Gateways are single gateway objects (install-policy targets whose
	// one member is the gateway itself), each with its version.
	Gateways []MgmtMember

	// PolicyInstall is how long an install-policy task runs (default
	// 30 s). VSXUpgrade is how long a vsx-run-operation upgrade runs
	// (default 20 s). TaskTime is how long publish, set-simple-cluster and
	// get-platform tasks run (default 2 s). All use timers (time.AfterFunc),
	// so they follow virtual time in a testing/synctest bubble.
	PolicyInstall, VSXUpgrade, TaskTime time.Duration

	// PolicyResult decides each member's install-policy outcome (target is
	// the target as sent, member the member's name): "" or
	// MgmtPolicySucceeded installs; MgmtPolicyFailed or any other text
	// fails (the text is the error message). nil: every member succeeds,
	// except those named by FailPolicyOn. It is called without the fake's
	// lock held, when the task ends.
	PolicyResult func(target, member string) string
	// OnPolicyInstalled is told of every member that installed a policy,
	// with the layers installed, when the task ends and before its status
	// is visible. It is called without the fake's lock held.
	OnPolicyInstalled func(target, member string, access, threatPrevention bool)
	// Platform, when set, answers get-platform for a name (ok=false falls
	// back to the fake's own table). It is called without the fake's lock
	// held, when the task ends.
	Platform func(name string) (p checkpoint.Platform, ok bool)
}

// MgmtFault is a fault injected on the next call of a command (see
// MgmtServer.InjectFault).
type MgmtFault int

const (
	// MgmtFault502 answers HTTP 502 with an HTML proxy page without
	// acting.
	MgmtFault502 MgmtFault = iota + 1
	// MgmtFaultDropBefore drops the connection after reading the request,
	// without acting.
	MgmtFaultDropBefore
	// MgmtFaultDropAfter acts on the request, then drops the connection
	// instead of replying: an ambiguous outcome.
	MgmtFaultDropAfter
	// MgmtFaultHangAfter acts on the request, then never replies until the
	// client gives up (its deadline): an ambiguous timeout.
	MgmtFaultHangAfter
)

// String names the fault ("502", "drop-before", "drop-after",
// "hang-after").
func (f MgmtFault) String() string {
	switch f {
	case MgmtFault502:
		return "502"
	case MgmtFaultDropBefore:
		return "drop-before"
	case MgmtFaultDropAfter:
		return "drop-after"
	case MgmtFaultHangAfter:
		return "hang-after"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// MgmtCall is one request the fake received.
type MgmtCall struct {
	// Command is the API command, e.g. "install-policy".
	Command string
	// APIVersion is the version in the URL ("1.8" for /web_api/v1.8/…),
	// "" for none.
	APIVersion string
	// Body is the decoded JSON body with "password" and "api-key" replaced
	// by "[REDACTED]"; nil when the body was not a JSON object.
	Body map[string]any
	// HadSession is true when the request carried an X-chkp-sid header.
	HadSession bool
	// Status is the HTTP status answered (0 when the connection was
	// dropped).
	Status int
	// Code is the error code answered, if any.
	Code string
	// Fault is the injected fault, if any.
	Fault MgmtFault
	// At is when the request arrived (time.Now, virtual in a bubble).
	At time.Time
}

// mgmtWrites are the commands that change management state.
var mgmtWrites = map[string]bool{
	"publish": true, "install-policy": true, "set-simple-cluster": true, "vsx-run-operation": true,
	"discard": true,
}

// IsMgmtWrite reports whether a command changes management state in the
// fake's model: publish, install-policy, set-simple-cluster,
// vsx-run-operation, discard, and any set-, add- or delete- command.
func IsMgmtWrite(command string) bool {
	return mgmtWrites[command] || strings.HasPrefix(command, "set-") || strings.HasPrefix(command, "add-") ||
		strings.HasPrefix(command, "delete-")
}

type mgmtSession struct {
	sid, uid, user, domain string
	timeout                time.Duration
	expires                time.Time
	staged                 map[string]string // cluster → version, until publish
}

type mgmtTask struct {
	id, name, command string
	status            string
	duration          time.Duration
	start, updated    time.Time
	details           []map[string]any
	comments          string
	hang              bool
}

type mgmtClusterState struct {
	spec    MgmtCluster
	uid     string
	version string // published
}

type mgmtVSXState struct {
	spec    MgmtVSXCluster
	uid     string
	version string
}

// MgmtServer is a fake Check Point Management API (web_api) server for
// tests: it speaks the wire protocol package checkpoint's MgmtClient
// expects (Check Point Management API Reference: POST
// /web_api[/v<version>]/<command>, JSON bodies, the X-chkp-sid header,
// error bodies {"code", "message"}), with a state model:
//
//   - login with user/password or api-key (and domain, session-timeout);
//     a wrong credential answers HTTP 400 {"code": "err_login_failed",
//     "message": "Authentication to server failed."}; sessions expire after
//     their timeout without activity (or, with KeepaliveOnly, without
//     keepalive) or on ExpireSessions, and an expired or unknown session ID
//     answers HTTP 401 with ExpiredCode; logout ends a session;
//   - simple-cluster objects: show-simple-cluster, set-simple-cluster
//     {name, version} as an asynchronous task whose change stays in the
//     session until publish (the session itself sees it at once);
//   - VSX cluster objects with Virtual Systems: vsx-run-operation upgrade
//     (asynchronous; publishes by itself; an object at or above the
//     target is left unchanged);
//   - install-policy tasks that run for PolicyInstall and end per member
//     as PolicyResult and FailPolicyOn say: "succeeded", "partially
//     succeeded" or "failed", with per-member task-details (gatewayId,
//     gatewayName, statusCode, statusDescription, fault-message,
//     stagesInfo); with install-on-all-cluster-members-or-fail (true when
//     absent, as on the server) one failing member fails the whole
//     cluster target and nothing is installed on it;
//   - get-platform tasks answering {os-name, version, hardware};
//   - show-task (details-level full), publish, keepalive, logout;
//   - a call record (Calls, WriteCalls) without secrets;
//   - fault knobs: HangTasks, FailPolicyOn, ExpireSessions,
//     ExpireSessionsAfter, LockObject, InjectFault (HTTP 502, dropped
//     connection before or after acting, hang after acting),
//     SwapCertificate.
//
// It uses the time package only (timers and time.Now), so it runs in a
// testing/synctest bubble through Transport (NewMgmtServerInMemory), and
// over real TLS on 127.0.0.1 (NewMgmtServer). It is safe for concurrent
// use. The task-details shape beyond the fields listed is invented.
type MgmtServer struct {
	mu        sync.Mutex
	opts      MgmtOptions
	users     map[string]string
	keys      map[string]bool
	packages  map[string]bool
	sessions  map[string]*mgmtSession
	clusters  map[string]*mgmtClusterState
	vsx       map[string]*mgmtVSXState
	vsOwner   map[string]string // VS name → VSX cluster
	gateways  map[string]MgmtMember
	platforms map[string]checkpoint.Platform
	tasks     map[string]*mgmtTask
	calls     []MgmtCall
	faults    map[string][]MgmtFault
	hang      map[string]bool
	failOn    map[string]bool
	locked    map[string]bool
	timers    []*time.Timer
	issued    []string
	logins    int
	seq       int
	closed    bool

	// TLS (NewMgmtServer only).
	ts         *httptest.Server
	caPEM      []byte
	leaf       *x509.Certificate
	impostor   *x509.Certificate
	swapped    bool
	impostorTC *tls.Config
}

var mgmtVersionRE = regexp.MustCompile(`^R[0-9]{2}(\.[0-9]{1,2}){0,2}$`)

// newMgmtServer builds the state model.
func newMgmtServer(opts MgmtOptions) (*MgmtServer, error) {
	if opts.Users == nil {
		opts.Users = map[string]string{DefaultMgmtUser: DefaultMgmtPassword}
	}
	if opts.APIKeys == nil {
		opts.APIKeys = []string{DefaultMgmtAPIKey}
	}
	if opts.PolicyPackages == nil {
		opts.PolicyPackages = []string{DefaultMgmtPolicyPackage}
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 600 * time.Second
	}
	if opts.ExpiredCode == "" {
		opts.ExpiredCode = "generic_err_wrong_session_id"
	}
	if opts.APIServerVersion == "" {
		opts.APIServerVersion = "1.9"
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&opts.PolicyInstall, 30*time.Second)
	set(&opts.VSXUpgrade, 20*time.Second)
	set(&opts.TaskTime, 2*time.Second)
	s := &MgmtServer{opts: opts, users: map[string]string{}, keys: map[string]bool{}, packages: map[string]bool{},
		sessions: map[string]*mgmtSession{}, clusters: map[string]*mgmtClusterState{}, vsx: map[string]*mgmtVSXState{},
		vsOwner: map[string]string{}, gateways: map[string]MgmtMember{}, platforms: map[string]checkpoint.Platform{},
		tasks: map[string]*mgmtTask{}, faults: map[string][]MgmtFault{}, hang: map[string]bool{},
		failOn: map[string]bool{}, locked: map[string]bool{}}
	for u, p := range opts.Users {
		s.users[u] = p
	}
	for _, k := range opts.APIKeys {
		s.keys[k] = true
	}
	for _, p := range opts.PolicyPackages {
		s.packages[p] = true
	}
	var probs []string
	taken := map[string]bool{}
	claim := func(name string) {
		if name == "" {
			probs = append(probs, "an object has no name")
		} else if taken[name] {
			probs = append(probs, fmt.Sprintf("object name %q used twice", name))
		}
		taken[name] = true
	}
	platform := func(m MgmtMember, version, hw string) checkpoint.Platform {
		v := m.Version
		if v == "" {
			v = version
		}
		return checkpoint.Platform{OSName: "Gaia", Version: v, Hardware: hw}
	}
	for _, c := range opts.Clusters {
		claim(c.Name)
		if !mgmtVersionRE.MatchString(c.Version) {
			probs = append(probs, fmt.Sprintf("cluster %q: version %q is not like R81.20", c.Name, c.Version))
		}
		if c.Hardware == "" {
			c.Hardware = "Open server"
		}
		if c.OSName == "" {
			c.OSName = "Gaia"
		}
		c.Members = slices.Clone(c.Members)
		s.clusters[c.Name] = &mgmtClusterState{spec: c, uid: s.newUID(), version: c.Version}
		s.platforms[c.Name] = checkpoint.Platform{OSName: c.OSName, Version: c.Version, Hardware: c.Hardware}
		for _, m := range c.Members {
			claim(m.Name)
			s.platforms[m.Name] = platform(m, c.Version, c.Hardware)
		}
	}
	for _, v := range opts.VSXClusters {
		claim(v.Name)
		if !mgmtVersionRE.MatchString(v.Version) {
			probs = append(probs, fmt.Sprintf("VSX cluster %q: version %q is not like R81.20", v.Name, v.Version))
		}
		v.Members, v.VirtualSystems = slices.Clone(v.Members), slices.Clone(v.VirtualSystems)
		s.vsx[v.Name] = &mgmtVSXState{spec: v, uid: s.newUID(), version: v.Version}
		s.platforms[v.Name] = checkpoint.Platform{OSName: "Gaia", Version: v.Version, Hardware: "Open server"}
		for _, m := range v.Members {
			claim(m.Name)
			s.platforms[m.Name] = platform(m, v.Version, "Open server")
		}
		for _, vs := range v.VirtualSystems {
			claim(vs)
			s.vsOwner[vs] = v.Name
		}
	}
	for _, g := range opts.Gateways {
		claim(g.Name)
		if !mgmtVersionRE.MatchString(g.Version) {
			probs = append(probs, fmt.Sprintf("gateway %q: version %q is not like R81.20", g.Name, g.Version))
		}
		s.gateways[g.Name] = g
		s.platforms[g.Name] = checkpoint.Platform{OSName: "Gaia", Version: g.Version, Hardware: "Open server"}
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("checkpointtest: invalid MgmtOptions: %s", strings.Join(probs, "; "))
	}
	return s, nil
}

// NewMgmtServer starts a fake management server over real TLS on
// 127.0.0.1 (never another interface), with a certificate for 127.0.0.1
// issued by a CA of its own: reach it with URL and CACertPEM (or pin
// Fingerprint), or simply ClientConfig. Close it when done. It must not be
// used inside a testing/synctest bubble (real sockets): use
// NewMgmtServerInMemory there.
func NewMgmtServer(opts MgmtOptions) (*MgmtServer, error) {
	s, err := newMgmtServer(opts)
	if err != nil {
		return nil, err
	}
	caCert, caKey, caPEM, err := mgmtNewCA("checkpointtest management CA")
	if err != nil {
		return nil, err
	}
	leaf, err := mgmtNewLeaf(caCert, caKey)
	if err != nil {
		return nil, err
	}
	impCA, impKey, _, err := mgmtNewCA("checkpointtest impostor CA")
	if err != nil {
		return nil, err
	}
	impostor, err := mgmtNewLeaf(impCA, impKey)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("checkpointtest: listen on loopback: %w", err)
	}
	ts := httptest.NewUnstartedServer(s)
	_ = ts.Listener.Close()
	ts.Listener = l
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.caPEM = caPEM
	s.leaf, _ = x509.ParseCertificate(leaf.Certificate[0])
	s.impostor, _ = x509.ParseCertificate(impostor.Certificate[0])
	s.impostorTC = &tls.Config{Certificates: []tls.Certificate{impostor}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	ts.TLS = &tls.Config{
		Certificates: []tls.Certificate{leaf},
		MinVersion:   tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.swapped {
				return s.impostorTC, nil
			}
			return nil, nil
		},
	}
	ts.StartTLS()
	s.ts = ts
	return s, nil
}

// NewMgmtServerInMemory returns a fake management server without a
// listener: reach it through Transport (URL is MgmtInMemoryURL), for
// example inside a testing/synctest bubble, or with ClientConfig. It has
// no certificate (CACertPEM and Fingerprint are empty).
func NewMgmtServerInMemory(opts MgmtOptions) (*MgmtServer, error) {
	return newMgmtServer(opts)
}

// mgmtNewCA returns a self-signed ECDSA P-256 CA valid for a day.
func mgmtNewCA(name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("checkpointtest: CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          mgmtSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"hitless checkpointtest"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("checkpointtest: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("checkpointtest: CA certificate: %w", err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// mgmtNewLeaf returns a server certificate for 127.0.0.1, ::1 and
// localhost issued by ca.
func mgmtNewLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("checkpointtest: server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: mgmtSerial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("checkpointtest: server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}, nil
}

func mgmtSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// URL returns the server URL: "https://127.0.0.1:<port>" for
// NewMgmtServer, MgmtInMemoryURL for NewMgmtServerInMemory.
func (s *MgmtServer) URL() string {
	if s.ts != nil {
		return s.ts.URL
	}
	return MgmtInMemoryURL
}

// CACertPEM returns the PEM of the CA that issued the server's
// certificate (for checkpoint.MgmtConfig.CACertPEM); nil in memory.
func (s *MgmtServer) CACertPEM() []byte { return slices.Clone(s.caPEM) }

// CertPool returns a pool holding that CA; nil in memory.
func (s *MgmtServer) CertPool() *x509.CertPool {
	if s.caPEM == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.caPEM)
	return p
}

// Certificate returns the server's own (leaf) certificate; nil in memory.
func (s *MgmtServer) Certificate() *x509.Certificate { return s.leaf }

// Fingerprint returns the SHA-256 fingerprint of the server's own
// certificate in the form checkpoint.MgmtConfig.PinnedSHA256 accepts
// ("AB:CD:…"); "" in memory.
func (s *MgmtServer) Fingerprint() string {
	if s.leaf == nil {
		return ""
	}
	return checkpoint.MgmtFingerprint(s.leaf.Raw)
}

// ImpostorFingerprint returns the fingerprint of the certificate served
// after SwapCertificate(true); "" in memory.
func (s *MgmtServer) ImpostorFingerprint() string {
	if s.impostor == nil {
		return ""
	}
	return checkpoint.MgmtFingerprint(s.impostor.Raw)
}

// Transport returns an in-memory http.RoundTripper serving every request
// with the fake's handler (checkpoint.NewMgmtMemoryTransport): no
// sockets, so it works inside testing/synctest bubbles. It serves loopback
// hosts only.
func (s *MgmtServer) Transport() http.RoundTripper { return checkpoint.NewMgmtMemoryTransport(s) }

// ClientConfig returns a checkpoint.MgmtConfig that reaches the fake as
// DefaultMgmtUser (or the first user of MgmtOptions.Users in name order):
// over TLS with CACertPEM for NewMgmtServer, in memory with Transport for
// NewMgmtServerInMemory. The caller may change any field (Logger, Timeout,
// PinnedSHA256 instead of CACertPEM, APIKey…).
func (s *MgmtServer) ClientConfig() checkpoint.MgmtConfig {
	s.mu.Lock()
	user := DefaultMgmtUser
	if _, ok := s.users[user]; !ok {
		names := make([]string, 0, len(s.users))
		for u := range s.users {
			names = append(names, u)
		}
		slices.Sort(names)
		if len(names) > 0 {
			user = names[0]
		}
	}
	pw := s.users[user]
	s.mu.Unlock()
	cfg := checkpoint.MgmtConfig{URL: s.URL(), User: user, Password: pw}
	if s.ts != nil {
		cfg.CACertPEM = s.CACertPEM()
	} else {
		cfg.Transport = s.Transport()
	}
	return cfg
}

// Close stops the TLS server, if any, and every pending task timer.
func (s *MgmtServer) Close() {
	s.mu.Lock()
	s.closed = true
	timers := s.timers
	s.timers = nil
	s.mu.Unlock()
	for _, t := range timers {
		t.Stop()
	}
	if s.ts != nil {
		s.ts.Close()
	}
}

// --- knobs ---

// ExpireSessions ends every current session now: their session IDs then
// answer ExpiredCode (HTTP 401).
func (s *MgmtServer) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]*mgmtSession{}
}

// ExpireSessionsAfter calls ExpireSessions once d from now (a timer:
// virtual time in a bubble).
func (s *MgmtServer) ExpireSessionsAfter(d time.Duration) {
	s.afterFunc(d, s.ExpireSessions)
}

// HangTasks makes every task created later by command ("" for every
// command) stay "in progress" forever (v false restores).
func (s *MgmtServer) HangTasks(command string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang[command] = v
}

// FailPolicyOn makes member fail every later install-policy (v false
// restores), whatever PolicyResult says.
func (s *MgmtServer) FailPolicyOn(member string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failOn[member] = v
}

// LockObject makes set-simple-cluster on the named object answer
// generic_err_object_locked (HTTP 409), as when another session holds it
// (v false unlocks).
func (s *MgmtServer) LockObject(name string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locked[name] = v
}

// InjectFault queues f for the next call of command (each call takes one
// queued fault).
func (s *MgmtServer) InjectFault(command string, f MgmtFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[command] = append(s.faults[command], f)
}

// Reply502Once answers the next call of command with HTTP 502, without
// acting (InjectFault with MgmtFault502).
func (s *MgmtServer) Reply502Once(command string) { s.InjectFault(command, MgmtFault502) }

// SwapCertificate makes the TLS server present (v true) a different
// certificate, issued by another CA, than the one Fingerprint and
// CACertPEM describe, as a man in the middle or a replaced server would;
// v false restores the original. It applies to new TLS connections (a
// client with an idle connection keeps using it). No effect in memory.
func (s *MgmtServer) SwapCertificate(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swapped = v
}

// SetPolicyResult replaces MgmtOptions.PolicyResult.
func (s *MgmtServer) SetPolicyResult(fn func(target, member string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.PolicyResult = fn
}

// SetOnPolicyInstalled replaces MgmtOptions.OnPolicyInstalled.
func (s *MgmtServer) SetOnPolicyInstalled(fn func(target, member string, access, threatPrevention bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.OnPolicyInstalled = fn
}

// SetPlatformFunc replaces MgmtOptions.Platform.
func (s *MgmtServer) SetPlatformFunc(fn func(name string) (checkpoint.Platform, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Platform = fn
}

// SetPlatform sets what get-platform answers for name (a gateway, a
// member or a cluster), e.g. after a member was upgraded.
func (s *MgmtServer) SetPlatform(name string, p checkpoint.Platform) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.platforms[name] = p
}

// --- observers ---

// Calls returns every request received, in order, without secrets.
func (s *MgmtServer) Calls() []MgmtCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// WriteCalls returns the received calls of commands that change
// management state (IsMgmtWrite), whatever their outcome: empty means
// nothing on management was asked to change.
func (s *MgmtServer) WriteCalls() []MgmtCall {
	var out []MgmtCall
	for _, c := range s.Calls() {
		if IsMgmtWrite(c.Command) {
			out = append(out, c)
		}
	}
	return out
}

// CallCount returns how many requests of command were received.
func (s *MgmtServer) CallCount(command string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Command == command {
			n++
		}
	}
	return n
}

// Logins returns how many logins succeeded.
func (s *MgmtServer) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// IssuedSIDs returns every session ID the fake issued (for tests that
// search logs and errors for them).
func (s *MgmtServer) IssuedSIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// ClusterVersion returns the published version of a cluster or VSX
// cluster object ("" if unknown).
func (s *MgmtServer) ClusterVersion(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clusters[name]; ok {
		return c.version
	}
	if v, ok := s.vsx[name]; ok {
		return v.version
	}
	return ""
}

// TaskStatus returns a task's status ("" if unknown).
func (s *MgmtServer) TaskStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tasks[id]; ok {
		return t.status
	}
	return ""
}

// --- HTTP ---

// mgmtReply is one answer.
type mgmtReply struct {
	status int
	body   any
}

func mgmtOK(body any) mgmtReply { return mgmtReply{status: http.StatusOK, body: body} }

func mgmtErr(status int, code, msg string) mgmtReply {
	return mgmtReply{status: status, body: map[string]any{"code": code, "message": msg}}
}

var mgmtPathRE = regexp.MustCompile(`^/web_api(?:/v([0-9]+(?:\.[0-9]+)*))?/([a-z][a-z0-9-]*)$`)

// ServeHTTP implements http.Handler: the management API.
func (s *MgmtServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	m := mgmtPathRE.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil {
		mgmtWrite(w, mgmtErr(http.StatusNotFound, "generic_err_command_not_found", "Unknown API path"))
		return
	}
	version, cmd := m[1], m[2]
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body map[string]json.RawMessage
	bodyErr := json.Unmarshal(raw, &body)
	call := MgmtCall{Command: cmd, APIVersion: version, Body: mgmtScrub(raw), HadSession: r.Header.Get("X-chkp-sid") != "", At: now}

	s.mu.Lock()
	idx := len(s.calls)
	var fault MgmtFault
	if q := s.faults[cmd]; len(q) > 0 {
		fault, s.faults[cmd] = q[0], q[1:]
	}
	call.Fault = fault
	s.calls = append(s.calls, call)
	var rep mgmtReply
	switch {
	case fault == MgmtFault502 || fault == MgmtFaultDropBefore:
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		rep = mgmtErr(http.StatusBadRequest, "generic_err_invalid_syntax", "Content-Type must be application/json")
	case bodyErr != nil || body == nil:
		rep = mgmtErr(http.StatusBadRequest, "generic_err_invalid_syntax", "Request body is not a JSON object")
	default:
		rep = s.handleLocked(cmd, r.Header.Get("X-chkp-sid"), body, now)
	}
	switch fault {
	case MgmtFault502:
		rep = mgmtReply{status: http.StatusBadGateway}
	case MgmtFaultDropBefore, MgmtFaultDropAfter, MgmtFaultHangAfter:
		rep = mgmtReply{}
	}
	s.calls[idx].Status = rep.status
	if b, ok := rep.body.(map[string]any); ok && rep.status != http.StatusOK {
		s.calls[idx].Code, _ = b["code"].(string)
	}
	s.mu.Unlock()

	switch fault {
	case MgmtFault502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>")
		return
	case MgmtFaultDropBefore, MgmtFaultDropAfter:
		panic(http.ErrAbortHandler)
	case MgmtFaultHangAfter:
		<-r.Context().Done()
		panic(http.ErrAbortHandler)
	}
	mgmtWrite(w, rep)
}

func mgmtWrite(w http.ResponseWriter, rep mgmtReply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_ = json.NewEncoder(w).Encode(rep.body)
}

// mgmtScrub decodes a body for the call record with its secrets replaced.
func mgmtScrub(raw []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	for _, k := range []string{"password", "api-key"} {
		if _, ok := m[k]; ok {
			m[k] = "[REDACTED]"
		}
	}
	return m
}

// handleLocked dispatches one command; s.mu is held.
func (s *MgmtServer) handleLocked(cmd, sid string, body map[string]json.RawMessage, now time.Time) mgmtReply {
	if cmd == "login" {
		return s.loginLocked(body, now)
	}
	if sid == "" {
		return mgmtErr(http.StatusUnauthorized, "generic_err_missing_session_id", "Missing header: [X-chkp-sid]")
	}
	sess, ok := s.sessions[sid]
	if ok && !now.Before(sess.expires) {
		delete(s.sessions, sid)
		ok = false
	}
	if !ok {
		return mgmtErr(http.StatusUnauthorized, s.opts.ExpiredCode,
			"Wrong session id ["+sid+"]. Session may be expired. Please check session id and resend the request")
	}
	if !s.opts.KeepaliveOnly || cmd == "keepalive" {
		sess.expires = now.Add(sess.timeout)
	}
	switch cmd {
	case "logout":
		delete(s.sessions, sid)
		return mgmtOK(map[string]any{"message": "OK"})
	case "keepalive":
		return mgmtOK(map[string]any{"message": "OK"})
	case "publish":
		staged := sess.staged
		sess.staged = map[string]string{}
		t := s.newTaskLocked("publish", "Publish operation", s.opts.TaskTime, now)
		s.scheduleLocked(t, func() { s.finishPublish(t, staged) })
		return mgmtOK(map[string]any{"task-id": t.id})
	case "discard":
		n := len(sess.staged)
		sess.staged = map[string]string{}
		return mgmtOK(map[string]any{"message": "OK", "number-of-discarded-changes": n})
	case "show-task":
		return s.showTaskLocked(body, now)
	case "show-simple-cluster":
		return s.showClusterLocked(sess, body)
	case "set-simple-cluster":
		return s.setClusterLocked(sess, body, now)
	case "vsx-run-operation":
		return s.vsxOperationLocked(body, now)
	case "install-policy":
		return s.installPolicyLocked(body, now)
	case "get-platform":
		name, _ := mgmtString(body, "name")
		if _, ok := s.platforms[name]; !ok {
			return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+name+"] not found")
		}
		t := s.newTaskLocked("get-platform", "get-platform", s.opts.TaskTime, now)
		s.scheduleLocked(t, func() { s.finishPlatform(t, name) })
		return mgmtOK(map[string]any{"task-id": t.id})
	}
	return mgmtErr(http.StatusNotFound, "generic_err_command_not_found", "Unknown command \""+cmd+"\"")
}

// mgmtString reads a string field.
func mgmtString(body map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := body[key]
	if !ok {
		return "", false
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// mgmtBool reads a boolean field, def when absent; ok=false when not a
// boolean.
func mgmtBool(body map[string]json.RawMessage, key string, def bool) (bool, bool) {
	raw, present := body[key]
	if !present {
		return def, true
	}
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		return false, false
	}
	return v, true
}

func (s *MgmtServer) loginLocked(body map[string]json.RawMessage, now time.Time) mgmtReply {
	failed := mgmtErr(http.StatusBadRequest, "err_login_failed", "Authentication to server failed.")
	user, hasUser := mgmtString(body, "user")
	pw, _ := mgmtString(body, "password")
	key, hasKey := mgmtString(body, "api-key")
	switch {
	case hasKey && hasUser:
		return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter", "Give user and password, or api-key")
	case hasKey:
		if !s.keys[key] {
			return failed
		}
		user = "api-key"
	case hasUser:
		if want, ok := s.users[user]; !ok || want != pw {
			return failed
		}
	default:
		return mgmtErr(http.StatusBadRequest, "generic_err_missing_required_parameters", "Missing parameter: [user] or [api-key]")
	}
	domain, _ := mgmtString(body, "domain")
	if domain != "" && s.opts.Domains != nil && !slices.Contains(s.opts.Domains, domain) {
		return failed
	}
	timeout := s.opts.SessionTimeout
	if raw, ok := body["session-timeout"]; ok {
		var n int
		if json.Unmarshal(raw, &n) != nil || n < 10 || n > 3600 {
			return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter", "Invalid value for [session-timeout]: must be 10-3600")
		}
		timeout = time.Duration(n) * time.Second
	}
	sid := mgmtRandom(32)
	sess := &mgmtSession{sid: sid, uid: s.newUID(), user: user, domain: domain, timeout: timeout,
		expires: now.Add(timeout), staged: map[string]string{}}
	s.sessions[sid] = sess
	s.issued = append(s.issued, sid)
	s.logins++
	host := "localhost"
	if s.ts != nil {
		host = strings.TrimPrefix(s.ts.URL, "https://")
	}
	reply := map[string]any{
		"sid": sid, "uid": sess.uid, "url": "https://" + host + "/web_api",
		"session-timeout":    int(timeout / time.Second),
		"last-login-was-at":  mgmtTime(now),
		"api-server-version": s.opts.APIServerVersion,
	}
	if domain != "" {
		reply["domain"] = map[string]any{"name": domain, "domain-type": "domain"}
	}
	return mgmtOK(reply)
}

func mgmtTime(t time.Time) map[string]any {
	return map[string]any{"posix": t.UnixMilli(), "iso-8601": t.Format("2006-01-02T15:04-0700")}
}

func mgmtRandom(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newUID returns a UUID-shaped identifier.
func (s *MgmtServer) newUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newTaskLocked creates a running task.
func (s *MgmtServer) newTaskLocked(command, name string, d time.Duration, now time.Time) *mgmtTask {
	s.seq++
	t := &mgmtTask{id: fmt.Sprintf("01234567-89ab-cdef-%04x-%012x", s.seq%0x10000, s.seq), name: name, command: command,
		status: checkpoint.TaskStatusInProgress, duration: d, start: now, updated: now,
		hang: s.hang[command] || s.hang[""]}
	s.tasks[t.id] = t
	return t
}

// scheduleLocked runs finish when t's duration has passed, unless t
// hangs.
func (s *MgmtServer) scheduleLocked(t *mgmtTask, finish func()) {
	if t.hang || s.closed {
		return
	}
	s.timers = append(s.timers, time.AfterFunc(t.duration, finish))
}

// afterFunc runs f after d with a tracked timer.
func (s *MgmtServer) afterFunc(d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.timers = append(s.timers, time.AfterFunc(d, f))
}

// endLocked marks t finished.
func (t *mgmtTask) endLocked(status string, details []map[string]any) {
	t.status, t.details, t.updated = status, details, time.Now()
}

func (s *MgmtServer) finishPublish(t *mgmtTask, staged map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, v := range staged {
		if c, ok := s.clusters[name]; ok {
			c.version = v
		}
	}
	t.endLocked(checkpoint.TaskStatusSucceeded, []map[string]any{{
		"publishResponse": map[string]any{"numberOfPublishedChanges": len(staged), "mode": "async"},
		"revision":        s.newUID(),
	}})
}

func (s *MgmtServer) finishPlatform(t *mgmtTask, name string) {
	s.mu.Lock()
	fn := s.opts.Platform
	p := s.platforms[name]
	s.mu.Unlock()
	if fn != nil {
		if q, ok := fn(name); ok {
			p = q
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.endLocked(checkpoint.TaskStatusSucceeded, []map[string]any{{"os-name": p.OSName, "version": p.Version, "hardware": p.Hardware}})
}

func (s *MgmtServer) showTaskLocked(body map[string]json.RawMessage, now time.Time) mgmtReply {
	var ids []string
	if id, ok := mgmtString(body, "task-id"); ok {
		ids = []string{id}
	} else if raw, ok := body["task-id"]; !ok || json.Unmarshal(raw, &ids) != nil || len(ids) == 0 {
		return mgmtErr(http.StatusBadRequest, "generic_err_missing_required_parameters", "Missing parameter: [task-id]")
	}
	level, _ := mgmtString(body, "details-level")
	var out []map[string]any
	for _, id := range ids {
		t, ok := s.tasks[id]
		if !ok {
			return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+id+"] not found")
		}
		progress := 100
		if t.status == checkpoint.TaskStatusInProgress {
			progress = 0
			if t.duration > 0 && !t.hang {
				progress = min(99, int(100*now.Sub(t.start)/t.duration))
			}
		}
		e := map[string]any{"task-id": t.id, "task-name": t.name, "status": t.status,
			"progress-percentage": progress, "suppressed": false}
		if t.details != nil {
			e["task-details"] = t.details
		} else {
			e["task-details"] = []any{}
		}
		if level == "full" {
			e["uid"] = t.id
			e["type"] = "task"
			e["start-time"] = mgmtTime(t.start)
			e["last-update-time"] = mgmtTime(t.updated)
			e["comments"] = t.comments
			e["meta-info"] = map[string]any{"creator": "WEB_API", "creation-time": mgmtTime(t.start)}
		}
		out = append(out, e)
	}
	return mgmtOK(map[string]any{"tasks": out})
}

// clusterView renders a cluster object as session sess sees it.
func (s *MgmtServer) clusterView(c *mgmtClusterState, sess *mgmtSession) map[string]any {
	version := c.version
	if v, ok := sess.staged[c.spec.Name]; ok {
		version = v
	}
	members := make([]map[string]any, 0, len(c.spec.Members))
	for i, m := range c.spec.Members {
		members = append(members, map[string]any{"name": m.Name, "ip-address": m.IPAddress, "sic-state": "communicating",
			"sic-message": "Trust established", "priority": i + 1})
	}
	return map[string]any{"uid": c.uid, "name": c.spec.Name, "type": "simple-cluster", "version": version,
		"hardware": c.spec.Hardware, "os-name": c.spec.OSName, "cluster-mode": "cluster-xl-ha", "cluster-members": members}
}

func (s *MgmtServer) showClusterLocked(sess *mgmtSession, body map[string]json.RawMessage) mgmtReply {
	name, _ := mgmtString(body, "name")
	c, ok := s.clusters[name]
	if !ok {
		return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+name+"] not found")
	}
	return mgmtOK(s.clusterView(c, sess))
}

func (s *MgmtServer) setClusterLocked(sess *mgmtSession, body map[string]json.RawMessage, now time.Time) mgmtReply {
	for k := range body {
		switch k {
		case "name", "version", "ignore-warnings", "ignore-errors":
		default:
			return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter_name", "Unrecognized parameter ["+k+"] (the fake supports name and version only)")
		}
	}
	name, _ := mgmtString(body, "name")
	c, ok := s.clusters[name]
	if !ok {
		return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+name+"] not found")
	}
	if s.locked[name] {
		return mgmtErr(http.StatusConflict, "generic_err_object_locked", "Object ["+name+"] is locked by another session")
	}
	version, ok := mgmtString(body, "version")
	if !ok || !mgmtVersionRE.MatchString(version) {
		return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter", "Invalid value for [version]")
	}
	t := s.newTaskLocked("set-simple-cluster", "Set simple cluster "+name, s.opts.TaskTime, now)
	s.scheduleLocked(t, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		sess.staged[name] = version
		t.endLocked(checkpoint.TaskStatusSucceeded, []map[string]any{{"statusDescription": "Object " + name + " updated", "object": map[string]any{"uid": c.uid, "name": name}}})
	})
	return mgmtOK(map[string]any{"task-id": t.id})
}

func (s *MgmtServer) vsxOperationLocked(body map[string]json.RawMessage, now time.Time) mgmtReply {
	op, _ := mgmtString(body, "operation")
	if op != "upgrade" {
		return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter", "Operation ["+op+"] is not supported by the fake (upgrade only)")
	}
	var p struct {
		Target string `json:"target-version"`
		Name   string `json:"vsx-name"`
		UID    string `json:"vsx-uid"`
	}
	if raw, ok := body["upgrade-params"]; !ok || json.Unmarshal(raw, &p) != nil {
		return mgmtErr(http.StatusBadRequest, "generic_err_missing_required_parameters", "Missing parameter: [upgrade-params]")
	}
	var v *mgmtVSXState
	for _, x := range s.vsx {
		if x.spec.Name == p.Name || (p.UID != "" && x.uid == p.UID) {
			v = x
		}
	}
	if v == nil {
		return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+p.Name+p.UID+"] not found")
	}
	if !mgmtVersionRE.MatchString(p.Target) {
		return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter", "Invalid value for [target-version]")
	}
	t := s.newTaskLocked("vsx-run-operation", "VSX upgrade "+v.spec.Name, s.opts.VSXUpgrade, now)
	s.scheduleLocked(t, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		desc := "VSX object " + v.spec.Name + " upgraded to " + p.Target + " and published"
		if !mgmtNewer(p.Target, v.version) {
			desc = "VSX object " + v.spec.Name + " is already at " + v.version + ": no change"
		} else {
			v.version = p.Target
		}
		t.endLocked(checkpoint.TaskStatusSucceeded, []map[string]any{{"statusDescription": desc}})
	})
	return mgmtOK(map[string]any{"task-id": t.id})
}

// mgmtNewer reports whether version a ("R81.20") is newer than b.
func mgmtNewer(a, b string) bool {
	num := func(v string) []int {
		var out []int
		for _, p := range strings.Split(strings.TrimPrefix(v, "R"), ".") {
			n, _ := strconv.Atoi(p)
			out = append(out, n)
		}
		return out
	}
	return slices.Compare(num(a), num(b)) > 0
}

// mgmtTarget is one install target with its members.
type mgmtTarget struct {
	name    string
	cluster bool
	members []MgmtMember
}

func (s *MgmtServer) installPolicyLocked(body map[string]json.RawMessage, now time.Time) mgmtReply {
	pkg, _ := mgmtString(body, "policy-package")
	if !s.packages[pkg] {
		return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+pkg+"] not found")
	}
	var names []string
	if raw, ok := body["targets"]; !ok || json.Unmarshal(raw, &names) != nil || len(names) == 0 {
		return mgmtErr(http.StatusBadRequest, "generic_err_missing_required_parameters", "Missing parameter: [targets]")
	}
	access, ok1 := mgmtBool(body, "access", true)
	tp, ok2 := mgmtBool(body, "threat-prevention", true)
	all, ok3 := mgmtBool(body, "install-on-all-cluster-members-or-fail", true)
	if !ok1 || !ok2 || !ok3 {
		return mgmtErr(http.StatusBadRequest, "generic_err_invalid_parameter", "access, threat-prevention and install-on-all-cluster-members-or-fail must be booleans")
	}
	var targets []mgmtTarget
	for _, n := range names {
		switch {
		case s.clusters[n] != nil:
			targets = append(targets, mgmtTarget{name: n, cluster: true, members: slices.Clone(s.clusters[n].spec.Members)})
		case s.vsx[n] != nil:
			targets = append(targets, mgmtTarget{name: n, cluster: true, members: slices.Clone(s.vsx[n].spec.Members)})
		case s.vsOwner[n] != "":
			targets = append(targets, mgmtTarget{name: n, cluster: true, members: slices.Clone(s.vsx[s.vsOwner[n]].spec.Members)})
		default:
			g, ok := s.gateways[n]
			if !ok {
				return mgmtErr(http.StatusNotFound, "generic_err_object_not_found", "Requested object ["+n+"] not found")
			}
			targets = append(targets, mgmtTarget{name: n, members: []MgmtMember{g}})
		}
	}
	t := s.newTaskLocked("install-policy", "Policy installation - "+pkg, s.opts.PolicyInstall, now)
	s.scheduleLocked(t, func() { s.finishInstall(t, targets, access, tp, all) })
	return mgmtOK(map[string]any{"task-id": t.id})
}

// finishInstall decides each member's outcome (callbacks without the
// lock), notifies OnPolicyInstalled, then ends the task.
func (s *MgmtServer) finishInstall(t *mgmtTask, targets []mgmtTarget, access, tp, all bool) {
	s.mu.Lock()
	decide, notify := s.opts.PolicyResult, s.opts.OnPolicyInstalled
	failOn := map[string]bool{}
	for k, v := range s.failOn {
		failOn[k] = v
	}
	uids := map[string]string{}
	for _, tg := range targets {
		for _, m := range tg.members {
			uids[m.Name] = s.newUID()
		}
	}
	s.mu.Unlock()

	type outcome struct {
		target, member, msg string
		ok                  bool
	}
	var outs []outcome
	for _, tg := range targets {
		var group []outcome
		var firstFail string
		for _, m := range tg.members {
			res := MgmtPolicySucceeded
			switch {
			case failOn[m.Name]:
				res = MgmtPolicyFailed
			case decide != nil:
				res = decide(tg.name, m.Name)
			}
			o := outcome{target: tg.name, member: m.Name, ok: res == "" || res == MgmtPolicySucceeded}
			if !o.ok {
				o.msg = res
				if res == MgmtPolicyFailed {
					o.msg = "Policy installation failed on gateway " + m.Name
				}
				if firstFail == "" {
					firstFail = m.Name
				}
			}
			group = append(group, o)
		}
		if all && tg.cluster && firstFail != "" {
			for i := range group {
				if group[i].ok {
					group[i].ok = false
					group[i].msg = "Installation was not performed on any cluster member because it failed on " + firstFail
				}
			}
		}
		outs = append(outs, group...)
	}
	if notify != nil {
		for _, o := range outs {
			if o.ok {
				notify(o.target, o.member, access, tp)
			}
		}
	}

	details := make([]map[string]any, 0, len(outs))
	okN := 0
	for _, o := range outs {
		d := map[string]any{"gatewayId": uids[o.member], "gatewayName": o.member, "meta-info": map[string]any{"creator": "WEB_API"}}
		if o.ok {
			okN++
			d["statusCode"] = checkpoint.TaskStatusSucceeded
			d["statusDescription"] = "Installation succeeded."
			d["stagesInfo"] = []map[string]any{{"stage": "Installation", "type": "info",
				"messages": []map[string]any{{"type": "info", "message": "Policy installed on " + o.member}}}}
		} else {
			d["statusCode"] = checkpoint.TaskStatusFailed
			d["statusDescription"] = "Installation failed."
			d["fault-message"] = o.msg
			d["stagesInfo"] = []map[string]any{{"stage": "Verification", "type": "err",
				"messages": []map[string]any{{"type": "err", "message": o.msg}}}}
		}
		details = append(details, d)
	}
	status := checkpoint.TaskStatusPartiallySucceeded
	switch okN {
	case len(outs):
		status = checkpoint.TaskStatusSucceeded
	case 0:
		status = checkpoint.TaskStatusFailed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.endLocked(status, details)
	if status != checkpoint.TaskStatusSucceeded {
		t.comments = fmt.Sprintf("Policy installation %s on %d of %d gateways", status, okN, len(outs))
	}
}
